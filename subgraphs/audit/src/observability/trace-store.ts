// Reads the tenant's stored spans (observability.spans, written by every process's span store; the
// tenant's transaction and row-level security decide what is visible) as traces and span trees.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ValidationError } from '#kernel/errors.ts';
import type { Keyset, PageRequest } from '#kernel/graphql/connection.ts';

/** OpenTelemetry span status as stored. */
export type SpanStatus = 'UNSET' | 'OK' | 'ERROR';

const KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const TRACE_ID = /^[0-9a-f]{32}$/;

/** One stored span with the spans that ran inside it. */
export interface SpanNode {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  service: string;
  kind: string;
  start: Date;
  durationMs: number;
  status: SpanStatus;
  statusMessage: string | null;
  attributes: string;
  depth: number;
  children: SpanNode[];
}

/** A trace's summary (a list row); `trace(id)` also carries its span tree. */
export interface TraceSummary {
  id: string;
  /** The span tree when already loaded. */
  roots?: SpanNode[];
  operation: string;
  start: Date;
  durationMs: number;
  status: SpanStatus;
  spanCount: number;
  services: string[];
}

/** What `traces` filters by. */
export interface TraceFilter {
  operation?: string | null;
  minDurationMs?: number | null;
  status?: SpanStatus | null;
  from?: Date | null;
  to?: Date | null;
}

/** A trace id in the W3C form (32 lower-case hex digits), or BAD_USER_INPUT naming the argument. */
export function parseTraceId(id: string): string {
  const value = id.trim().toLowerCase();
  if (!TRACE_ID.test(value) || /^0+$/.test(value)) {
    throw new ValidationError(
      `id must be a W3C trace id: 32 hexadecimal digits, not all zero (got "${id}")`,
      {
        argument: 'id',
      },
    );
  }
  return value;
}

/** A trace id as a UUID-shaped keyset id (cursors carry UUIDs) and back. */
export const traceIdAsKey = (id: string) =>
  `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
const keyAsTraceId = (key: string) => key.replaceAll('-', '');

/** Per trace: first start, last end, counts, worst status, the operation it is about. */
const SUMMARY = `
  select trace_id as id,
         min(started_at) as start,
         extract(epoch from max(started_at + duration_us * interval '1 microsecond') - min(started_at)) * 1000
           as duration_ms,
         count(*)::int as span_count,
         case when bool_or(status = 'ERROR') then 'ERROR' when bool_or(status = 'OK') then 'OK' else 'UNSET' end
           as status,
         (array_agg(name order by (attributes->>'graphql.operation.type' is not null) desc,
                    (attributes->>'messaging.operation.type' is not null) desc, (parent_span_id is null) desc, started_at,
                    duration_us desc, span_id))[1]
           as operation,
         array_agg(distinct service order by service) as services
    from observability.spans`;

interface SummaryRow {
  id: string;
  start: Date | string;
  duration_ms: number | string;
  span_count: number;
  status: SpanStatus;
  operation: string;
  services: string[];
}

const toSummary = (row: SummaryRow): TraceSummary => ({
  id: row.id,
  start: new Date(row.start),
  durationMs: Number(row.duration_ms),
  spanCount: row.span_count,
  status: row.status,
  operation: row.operation,
  services: row.services,
});

/** The keyset of a trace in (start desc, id desc) order. */
export const traceKey = (trace: TraceSummary): Keyset => ({ at: trace.start, id: traceIdAsKey(trace.id) });

/** Up to `page.first + 1` traces of the tenant, newest first, matching every filter. */
export async function listTraces(
  em: EntityManager,
  filter: TraceFilter,
  page: PageRequest,
): Promise<TraceSummary[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.from) {
    where.push('started_at >= ?');
    params.push(filter.from);
  }
  if (filter.to) {
    where.push('started_at < ?');
    params.push(filter.to);
  }
  const having: string[] = [];
  const outer: unknown[] = [];
  if (filter.operation) {
    having.push(`t.operation ilike ? escape '\\'`);
    outer.push(`%${filter.operation.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  }
  if (filter.minDurationMs !== undefined && filter.minDurationMs !== null) {
    if (!Number.isFinite(filter.minDurationMs) || filter.minDurationMs < 0) {
      throw new ValidationError(`filter.minDurationMs must be 0 or more (got ${filter.minDurationMs})`, {
        argument: 'filter.minDurationMs',
      });
    }
    having.push('t.duration_ms >= ?');
    outer.push(filter.minDurationMs);
  }
  if (filter.status) {
    having.push('t.status = ?');
    outer.push(filter.status);
  }
  if (page.after) {
    having.push('(t.start, t.id) < (?, ?)');
    outer.push(page.after.at, keyAsTraceId(page.after.id));
  }
  const sql = `
    select * from (${SUMMARY} ${where.length ? `where ${where.join(' and ')}` : ''} group by trace_id) t
    ${having.length ? `where ${having.join(' and ')}` : ''}
    order by t.start desc, t.id desc
    limit ${page.first + 1}`;
  const rows = await em.execute<SummaryRow[]>(sql, [...params, ...outer]);
  return rows.map(toSummary);
}

/** One trace of the tenant with its span tree, or null when none of its spans is stored. */
export async function findTrace(
  em: EntityManager,
  traceId: string,
): Promise<(TraceSummary & { roots: SpanNode[] }) | null> {
  const [summary] = await em.execute<SummaryRow[]>(`${SUMMARY} where trace_id = ? group by trace_id`, [
    traceId,
  ]);
  if (!summary) return null;
  const rows = await em.execute<SpanRow[]>(
    `select span_id, parent_span_id, name, service, kind, started_at, duration_us, status, status_message, attributes
       from observability.spans where trace_id = ? order by started_at, span_id`,
    [traceId],
  );
  return { ...toSummary(summary), roots: spanTree(rows) };
}

interface SpanRow {
  span_id: string;
  parent_span_id: string | null;
  name: string;
  service: string;
  kind: number;
  started_at: Date | string;
  duration_us: number | string;
  status: SpanStatus;
  status_message: string | null;
  attributes: Record<string, unknown> | string;
}

/** Links spans to their parents; a span whose parent is not stored is a root. Children by start time. */
export function spanTree(rows: SpanRow[]): SpanNode[] {
  const nodes = new Map<string, SpanNode>();
  for (const row of rows) {
    nodes.set(row.span_id, {
      spanId: row.span_id,
      parentSpanId: row.parent_span_id,
      name: row.name,
      service: row.service,
      kind: KINDS[row.kind] ?? 'INTERNAL',
      start: new Date(row.started_at),
      durationMs: Number(row.duration_us) / 1000,
      status: row.status,
      statusMessage: row.status_message,
      attributes: typeof row.attributes === 'string' ? row.attributes : JSON.stringify(row.attributes),
      depth: 0,
      children: [],
    });
  }
  const roots: SpanNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentSpanId ? nodes.get(node.parentSpanId) : undefined;
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  for (const node of flattenTree(roots)) for (const child of node.children) child.depth = node.depth + 1;
  return roots;
}

/** The tree depth first: a parent before its children, siblings in start order. */
export function flattenTree(roots: SpanNode[]): SpanNode[] {
  const out: SpanNode[] = [];
  const stack = [...roots].reverse();
  const seen = new Set<SpanNode>();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return out;
}
