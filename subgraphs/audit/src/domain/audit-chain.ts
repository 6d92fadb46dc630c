import type { EntityManager } from '@mikro-orm/postgresql';

/** What kind of damage a verification found (the GraphQL enum AuditChainProblemKind). */
export type ChainProblemKind =
  | 'ALTERED_ROW'
  | 'BROKEN_LINK'
  | 'MISSING_ROWS'
  | 'MOVED_ROW'
  | 'RECOMPUTED_CHAIN'
  | 'DELETED_TAIL'
  | 'FORGED_CHECKPOINT';

/** One problem, at the first sequence number it affects. */
export interface ChainFinding {
  kind: ChainProblemKind;
  /** Null only for a forged checkpoint line that names no sequence number. */
  sequence: number | null;
  message: string;
}

/** Which rows a scan reads (by sequence number) and which times the caller asked about. */
export interface ChainSpan {
  /** First sequence number read (from 1); its link to the row before is vouched for by a checkpoint. */
  fromSeq: number;
  /** Last sequence number read; null: to the newest row. */
  toSeq: number | null;
  /** The asked-for time range [from, to), absent for a whole-chain check. */
  range: { from: Date | null; to: Date | null } | null;
}

/** What a scan of one span found. */
export interface SpanScan {
  /** Rows read. */
  checked: number;
  /** The first problem by sequence number, and the id of its row. */
  finding: (ChainFinding & { rowId: string }) | null;
}

const ROW_HASH = `audit.row_hash(e.prev_hash, e.id, e.tenant_id, e.seq, e.actor_kind, e.actor_id, e.actor,
  e.on_behalf_of, e.action, e.target_type, e.target_id, e.outcome, e.request_id, e.trace_id, e.at,
  e.input_summary)`;
const EARLIEST = new Date(0);
const LATEST = new Date('9999-12-31T00:00:00Z');

/**
 * Re-computes every row's hash in a span of sequence numbers (inside the caller's tenant
 * transaction) and checks that each row links to its predecessor with no sequence number missing,
 * that times never run backwards, and, for a ranged check, that no row between two rows of the
 * range lies outside it (a row whose time was moved out). The span is chosen by sequence number,
 * not by time, so a moved time cannot take a row out of what is checked.
 */
export async function scanSpan(em: EntityManager, span: ChainSpan): Promise<SpanScan> {
  const from = span.range?.from ?? EARLIEST;
  const to = span.range?.to ?? LATEST;
  const toSeq = span.toSeq ?? Number.MAX_SAFE_INTEGER;
  const rows = await em.execute<{ id: string; seq: string; problem: string; checked: string }[]>(
    `with chain as (
       select e.id, e.seq, e.at, e.hash, e.prev_hash, ${ROW_HASH} as computed,
              lag(e.seq) over w as prev_seq, lag(e.hash) over w as prev_row_hash, lag(e.at) over w as prev_at,
              lead(e.at) over w as next_at,
              lead(e.at, 2) over w as after_next_at,
              (e.at >= ? and e.at < ?) as in_range
         from audit.audit_events e
        where e.seq between ? and ?
       window w as (order by e.seq)
     ), bounds as (
       select min(seq) filter (where in_range) as first_in, max(seq) filter (where in_range) as last_in,
              count(*) as n
         from chain
     ), checked as (
       select c.id, c.seq, case
           when c.computed <> c.hash then 'ALTERED_ROW|the row''s content does not match its hash (it was altered)'
           when c.seq = 1 and c.prev_hash <> repeat('0', 64) then 'BROKEN_LINK|the first row does not start the chain'
           when c.prev_seq is null and c.seq > ?
             then 'MISSING_ROWS|rows ' || ?::bigint || ' to ' || (c.seq - 1) || ' before it are missing'
           when c.prev_seq is not null and c.prev_seq <> c.seq - 1
             then 'MISSING_ROWS|rows ' || (c.prev_seq + 1) || ' to ' || (c.seq - 1) || ' before it are missing'
           when c.prev_seq is not null and c.prev_row_hash <> c.prev_hash
             then 'BROKEN_LINK|its link to the previous row does not match (the previous row was altered or replaced)'
           when not c.in_range and c.seq > b.first_in and c.seq < b.last_in
             then 'MOVED_ROW|its time ' || to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
               || ' lies outside the checked range although rows before and after it lie inside: it was moved out'
           when c.next_at is not null and c.at > c.next_at
                and (c.prev_at is null or c.prev_at <= c.next_at)
                and (c.after_next_at is null or c.at > c.after_next_at)
             then 'MOVED_ROW|its time ' || to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
               || ' is later than the row after it: it was moved'
           when c.prev_at is not null and c.at < c.prev_at
             then 'MOVED_ROW|its time ' || to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
               || ' is earlier than the row before it: a time was moved'
         end as problem
         from chain c, bounds b
     )
     select id, seq, problem, (select n from bounds) as checked
       from checked where problem is not null order by seq limit 1`,
    [from, to, span.fromSeq, toSeq, span.fromSeq, span.fromSeq],
  );
  const [broken] = rows;
  if (!broken) {
    const [counted] = await em.execute<{ n: string }[]>(
      'select count(*) as n from audit.audit_events where seq between ? and ?',
      [span.fromSeq, toSeq],
    );
    return { checked: Number(counted?.n ?? 0), finding: null };
  }
  const at = broken.problem.indexOf('|');
  return {
    checked: Number(broken.checked),
    finding: {
      kind: broken.problem.slice(0, at) as ChainProblemKind,
      sequence: Number(broken.seq),
      message: broken.problem.slice(at + 1),
      rowId: broken.id,
    },
  };
}

/**
 * The first row whose time lies in [from, to) but whose sequence number lies outside the span the
 * checkpoints give that range: its time was moved into the range.
 */
export async function movedIntoRange(
  em: EntityManager,
  span: ChainSpan & { range: { from: Date | null; to: Date | null } },
): Promise<(ChainFinding & { rowId: string }) | null> {
  const [row] = await em.execute<{ id: string; seq: string }[]>(
    `select id, seq from audit.audit_events
      where at >= ? and at < ? and (seq < ? or seq > ?) order by seq limit 1`,
    [
      span.range.from ?? EARLIEST,
      span.range.to ?? LATEST,
      span.fromSeq,
      span.toSeq ?? Number.MAX_SAFE_INTEGER,
    ],
  );
  if (!row) return null;
  return {
    kind: 'MOVED_ROW',
    sequence: Number(row.seq),
    message:
      'its time lies in the checked range, but the signed checkpoints place its sequence number outside it: its time was moved',
    rowId: row.id,
  };
}

/** The newest row of the caller's tenant: its sequence number, hash and time. */
export async function chainHead(em: EntityManager): Promise<{ seq: number; hash: string; at: Date } | null> {
  const [row] = await em.execute<{ seq: string; hash: string; at: Date }[]>(
    'select seq, hash, at from audit.audit_events order by seq desc limit 1',
  );
  return row ? { seq: Number(row.seq), hash: row.hash, at: new Date(row.at) } : null;
}

/** The hashes of the given sequence numbers (those that exist). */
export async function hashesAt(em: EntityManager, seqs: number[]): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for (let i = 0; i < seqs.length; i += 1_000) {
    // Safe integers from signed checkpoints, so they may be written into the statement.
    const chunk = seqs.slice(i, i + 1_000).filter(Number.isSafeInteger);
    if (chunk.length === 0) continue;
    const rows = await em.execute<{ seq: string; hash: string }[]>(
      `select seq, hash from audit.audit_events where seq in (${chunk.join(', ')})`,
    );
    for (const row of rows) found.set(Number(row.seq), row.hash);
  }
  return found;
}
