import type { EntityManager } from '@mikro-orm/postgresql';

/** The outcome of re-computing a tenant's hash chain over a time range. */
export interface ChainVerification {
  ok: boolean;
  checked: number;
  firstBrokenId: string | null;
  firstBrokenSequence: number | null;
  problem: string | null;
}

const ROW_HASH = `audit.row_hash(e.prev_hash, e.id, e.tenant_id, e.seq, e.actor_kind, e.actor_id, e.actor,
  e.on_behalf_of, e.action, e.target_type, e.target_id, e.outcome, e.request_id, e.trace_id, e.at,
  e.input_summary)`;

/**
 * Re-computes every row's hash in [from, to) (inside the caller's tenant transaction) and checks
 * each row links to its predecessor: same `prev_hash` as the predecessor's `hash`, and no sequence
 * number missing. Returns the first row, in chain order, where either fails.
 */
export async function verifyChain(
  em: EntityManager,
  from: Date | null,
  to: Date | null,
): Promise<ChainVerification> {
  const lower = from ?? new Date(0);
  const upper = to ?? new Date('9999-12-31T00:00:00Z');
  const rows = await em.execute<{ id: string; seq: string; problem: string | null; checked: string }[]>(
    `with anchor as (
       select coalesce(min(seq), 1) - 1 as lo from audit.audit_events where at >= ? and at < ?
     ), chain as (
       select e.id, e.seq, e.at, e.hash, e.prev_hash, ${ROW_HASH} as computed,
              lag(e.seq) over (order by e.seq) as prev_seq,
              lag(e.hash) over (order by e.seq) as prev_row_hash
         from audit.audit_events e, anchor
        where e.seq >= anchor.lo and e.at < ?
     ), checked as (
       select *, case
           when computed <> hash then 'the row''s content does not match its hash (it was altered)'
           when seq = 1 and prev_hash <> repeat('0', 64) then 'the first row does not start the chain'
           when seq > 1 and prev_seq is null
             then 'the row before it (sequence ' || (seq - 1) || ') is missing'
           when prev_seq is not null and prev_seq <> seq - 1
             then 'rows ' || (prev_seq + 1) || ' to ' || (seq - 1) || ' before it are missing'
           when prev_seq is not null and prev_row_hash <> prev_hash
             then 'its link to the previous row does not match (the previous row was altered or replaced)'
         end as problem
         from chain where at >= ?
     )
     select id, seq, problem, (select count(*) from checked) as checked
       from checked where problem is not null order by seq limit 1`,
    [lower, upper, upper, lower],
  );
  const [broken] = rows;
  if (!broken) {
    const [counted] = await em.execute<{ count: string }[]>(
      'select count(*) as count from audit.audit_events where at >= ? and at < ?',
      [lower, upper],
    );
    return {
      ok: true,
      checked: Number(counted?.count ?? 0),
      firstBrokenId: null,
      firstBrokenSequence: null,
      problem: null,
    };
  }
  return {
    ok: false,
    checked: Number(broken.checked),
    firstBrokenId: broken.id,
    firstBrokenSequence: Number(broken.seq),
    problem: broken.problem,
  };
}
