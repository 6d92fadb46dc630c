// The embedded flame graph: every process keeps its finished spans in PostgreSQL
// (observability.spans), per tenant, whether or not an OTLP collector is configured. A span belongs
// to the tenant of the verified identity it ran for: its own `widgetdc.tenant.id`, else that of
// another span of the same trace in this process (the operation or event span that carries it).
// Spans of traces that never name a tenant (a refused token, start-up work) are not kept.
import { context } from '@opentelemetry/api';
import { hrTimeToMicroseconds, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import pg from 'pg';
import { isUuid } from '../ids.ts';
import { ATTR_TENANT_ID } from './attributes.ts';

/** How often buffered spans are written. */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000;
/** A trace whose tenant is still unknown after this long is dropped from the buffer. */
export const DEFAULT_UNCLAIMED_MS = 30_000;
/** Most spans held in memory; past it the oldest are dropped (and counted). */
export const DEFAULT_MAX_BUFFERED = 20_000;
/** Largest attribute value kept, in characters. */
const MAX_ATTRIBUTE_CHARS = 2048;
/** Spans per INSERT statement. */
const ROWS_PER_STATEMENT = 500;

const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

/** Options of {@link TenantSpanStore}. */
export interface SpanStoreOptions {
  /** PostgreSQL as `widgetdc_app` (row-level security applies to every write). */
  url: string;
  flushIntervalMs?: number;
  unclaimedMs?: number;
  maxBuffered?: number;
  /** Called when a write fails (the spans are dropped). */
  onError?: (error: unknown) => void;
}

interface Pending {
  spans: ReadableSpan[];
  firstAt: number;
}

/**
 * A span processor that batches finished spans into `observability.spans`, one transaction per
 * tenant with `app.tenant_id` set (RLS checks every row). Its own queries are not traced.
 */
export class TenantSpanStore implements SpanProcessor {
  readonly #pool: pg.Pool;
  readonly #options: Required<Omit<SpanStoreOptions, 'url' | 'onError'>> & Pick<SpanStoreOptions, 'onError'>;
  /** Spans waiting for their tenant, by trace id. */
  readonly #pending = new Map<string, Pending>();
  /** The tenant of each trace seen lately, by trace id (insertion order = age). */
  readonly #tenants = new Map<string, { tenantId: string; at: number }>();
  #buffered = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  /** Spans written, dropped for want of a tenant, and dropped for want of room or by a failed write. */
  readonly counts = { stored: 0, unclaimed: 0, dropped: 0 };

  constructor(options: SpanStoreOptions) {
    this.#options = {
      flushIntervalMs: options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
      unclaimedMs: options.unclaimedMs ?? DEFAULT_UNCLAIMED_MS,
      maxBuffered: options.maxBuffered ?? DEFAULT_MAX_BUFFERED,
      onError: options.onError,
    };
    this.#pool = new pg.Pool({ connectionString: options.url, max: 1, idleTimeoutMillis: 10_000 });
    this.#pool.on('error', (error) => this.#options.onError?.(error));
  }

  onStart(_span: Span): void {}

  onEnd(span: ReadableSpan): void {
    if (this.#closed) return;
    const traceId = span.spanContext().traceId;
    const tenant = span.attributes[ATTR_TENANT_ID];
    if (typeof tenant === 'string' && isUuid(tenant) && !this.#tenants.has(traceId)) {
      this.#tenants.set(traceId, { tenantId: tenant.toLowerCase(), at: Date.now() });
    }
    let pending = this.#pending.get(traceId);
    if (!pending) {
      pending = { spans: [], firstAt: Date.now() };
      this.#pending.set(traceId, pending);
    }
    pending.spans.push(span);
    this.#buffered++;
    if (this.#buffered > this.#options.maxBuffered) this.#dropOldest();
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.forceFlush();
    }, this.#options.flushIntervalMs).unref();
  }

  /** Writes every span whose tenant is known; drops those unclaimed for too long. */
  forceFlush(): Promise<void> {
    const now = Date.now();
    const byTenant = new Map<string, ReadableSpan[]>();
    for (const [traceId, pending] of this.#pending) {
      const tenant = this.#tenants.get(traceId)?.tenantId;
      if (tenant) {
        const list = byTenant.get(tenant) ?? [];
        list.push(...pending.spans);
        byTenant.set(tenant, list);
      } else if (now - pending.firstAt < this.#options.unclaimedMs && !this.#closed) {
        continue;
      } else {
        this.counts.unclaimed += pending.spans.length;
      }
      this.#buffered -= pending.spans.length;
      this.#pending.delete(traceId);
    }
    // A trace's late spans (a subscription ending) still find its tenant for a while.
    for (const [traceId, { at }] of this.#tenants) {
      if (now - at < this.#options.unclaimedMs * 10) break;
      this.#tenants.delete(traceId);
    }
    if (byTenant.size === 0) return this.#writing;
    this.#writing = this.#writing.then(() => this.#write(byTenant));
    return this.#writing;
  }

  async shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.forceFlush();
    await this.#pool.end();
  }

  #dropOldest(): void {
    const [traceId, oldest] = this.#pending.entries().next().value ?? [];
    if (!traceId || !oldest) return;
    this.#pending.delete(traceId);
    this.#buffered -= oldest.spans.length;
    this.counts.dropped += oldest.spans.length;
  }

  async #write(byTenant: Map<string, ReadableSpan[]>): Promise<void> {
    // Writing spans must not produce spans (pg instrumentation) about writing spans.
    await context.with(suppressTracing(context.active()), async () => {
      for (const [tenantId, spans] of byTenant) {
        try {
          await this.#writeTenant(tenantId, spans);
          this.counts.stored += spans.length;
        } catch (error) {
          this.counts.dropped += spans.length;
          this.#options.onError?.(error);
        }
      }
    });
  }

  async #writeTenant(tenantId: string, spans: ReadableSpan[]): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [tenantId]);
      for (let i = 0; i < spans.length; i += ROWS_PER_STATEMENT) {
        const rows = spans.slice(i, i + ROWS_PER_STATEMENT).map(toRow);
        await client.query(INSERT, [tenantId, JSON.stringify(rows)]);
      }
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}

const INSERT = `
  insert into observability.spans
    (tenant_id, trace_id, span_id, parent_span_id, name, service, kind, started_at, duration_us,
     status, status_message, attributes)
  select $1::uuid, r.trace_id, r.span_id, r.parent_span_id, r.name, r.service, r.kind,
         timestamptz 'epoch' + r.start_us * interval '1 microsecond', r.duration_us, r.status, r.status_message, r.attributes
    from jsonb_to_recordset($2::jsonb) as r(trace_id text, span_id text, parent_span_id text, name text,
         service text, kind smallint, start_us bigint, duration_us bigint, status text,
         status_message text, attributes jsonb)
  on conflict do nothing`;

function toRow(span: ReadableSpan) {
  const start = hrTimeToMicroseconds(span.startTime);
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(span.attributes)) {
    if (value === undefined) continue;
    attributes[key] =
      typeof value === 'string' && value.length > MAX_ATTRIBUTE_CHARS
        ? `${value.slice(0, MAX_ATTRIBUTE_CHARS)}…`
        : value;
  }
  return {
    trace_id: span.spanContext().traceId,
    span_id: span.spanContext().spanId,
    parent_span_id: span.parentSpanContext?.spanId ?? null,
    name: span.name.slice(0, 500),
    service: String(span.resource.attributes[ATTR_SERVICE_NAME] ?? 'unknown').slice(0, 200),
    kind: span.kind,
    start_us: Math.round(start),
    duration_us: Math.max(0, Math.round(hrTimeToMicroseconds(span.duration))),
    status: STATUS[span.status.code] ?? 'UNSET',
    status_message: span.status.message?.slice(0, 1000) ?? null,
    attributes,
  };
}
