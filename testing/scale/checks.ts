// After a failover run: waits until the platform has settled, then counts what was lost, what was
// handled twice, and whether the audit chains verify and the subscribers caught up.
import { Redis } from 'ioredis';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { TestDatabase } from '../test-database.ts';
import type { FailoverRun } from './failover.ts';

/** Per consumer group: events that reached its streams, handled, lost, handled more than once. */
export interface GroupCount {
  group: string;
  /** Distinct event ids in the group's streams. */
  events: number;
  /** Ids in the group's processed-event ledger. */
  processed: number;
  /** Stream events missing from the ledger. */
  lost: number;
  /** Events whose effect (its audit record, written in the effect's transaction) exists more than once. */
  twice: number;
  /** Dead-lettered entries. */
  deadLetters: number;
}

/** The outcome of the checks. */
export interface FailoverReport {
  acknowledged: number;
  /** Acknowledged task ids not in the database. */
  lostWrites: string[];
  /** Acknowledged tasks that never COMPLETED (their step event lost or stuck). */
  unfinished: number;
  groups: GroupCount[];
  clientErrors: number;
  /** Requests in flight on the killed replicas when they were killed, summed. */
  inFlightAtKills: number;
  audit: { ok: boolean; checked: number; problem: string | null };
  survivor: { connections: number; receivedAfterKill: number };
  reconnecting: {
    connections: number;
    receivedAfterReconnect: number;
    /** Acknowledged tasks whose completion it was not pushed (the gap). */
    missed: number;
    /** Acknowledged tasks its catch-up query found COMPLETED. */
    caughtUp: number;
  };
}

/** How the checks reach the platform. */
export interface CheckOptions {
  db: TestDatabase;
  redisUrl: string;
  streamPrefix: string;
  /** A GraphQL request through the gateways' balancer as an Admin of the load's tenant. */
  graphql: <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;
  settleMs: number;
  /** The live fan-out's group: best-effort pushes, not in the processed-event ledger. */
  ignoreGroups?: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every acknowledged task finished and every stream is drained, then checks. */
export async function checkFailover(run: FailoverRun, options: CheckOptions): Promise<FailoverReport> {
  const { db } = options;
  const ids = run.load.acknowledged;
  const transport = new RedisStreamTransport({ url: options.redisUrl, prefix: options.streamPrefix });
  const redis = new Redis(options.redisUrl, { lazyConnect: false });
  try {
    const unfinished = async () =>
      Number(
        (
          await db.asSuperuser<{ n: string }>(
            "select count(*) as n from unnest($1::uuid[]) as a(id) left join agent.tasks t on t.id = a.id where t.status is distinct from 'COMPLETED'",
            [ids],
          )
        )[0]!.n,
      );
    const drained = async () => {
      const outbox = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
      if (Number(outbox[0]!.n) > 0) return false;
      for (const stream of await transport.streams()) {
        for (const group of await transport.groups(stream)) {
          const stats = await transport.stats(stream, group);
          if (stats.pending > 0 || stats.lag > 0) return false;
        }
      }
      return true;
    };
    const until = Date.now() + options.settleMs;
    while (Date.now() < until && ((await unfinished()) > 0 || !(await drained()))) await sleep(250);

    const found = await db.asSuperuser<{ id: string }>(
      'select t.id from agent.tasks t where t.id = any($1::uuid[])',
      [ids],
    );
    const present = new Set(found.map((r) => r.id));
    const lostWrites = ids.filter((id) => !present.has(id));

    const byGroup = new Map<string, { events: Set<string>; deadLetters: number }>();
    for (const stream of await transport.streams()) {
      const entries = (await redis.xrange(`${options.streamPrefix}${stream}`, '-', '+')) as [
        string,
        string[],
      ][];
      const eventIds = new Set<string>();
      for (const [, fields] of entries) {
        const body = fields[fields.indexOf('body') + 1];
        if (body) eventIds.add((JSON.parse(body) as { id: string }).id.toLowerCase());
      }
      for (const group of await transport.groups(stream)) {
        if (options.ignoreGroups?.includes(group)) continue;
        const entry = byGroup.get(group) ?? { events: new Set<string>(), deadLetters: 0 };
        for (const id of eventIds) entry.events.add(id);
        entry.deadLetters += (await transport.stats(stream, group)).deadLetters;
        byGroup.set(group, entry);
      }
    }
    const groups: GroupCount[] = [];
    for (const [group, { events, deadLetters }] of byGroup) {
      const processed = new Set(
        (
          await db.asSuperuser<{ id: string }>(
            'select event_id::text as id from platform.processed_events where consumer_group = $1',
            [group],
          )
        ).map((r) => r.id.toLowerCase()),
      );
      const twice = await db.asSuperuser<{ n: string }>(
        `select count(*) as n from (select input_summary->>'eventId' from audit.audit_events
          where action like $1 group by 1 having count(*) > 1) d`,
        [`${group}.%`],
      );
      groups.push({
        group,
        events: events.size,
        processed: processed.size,
        lost: [...events].filter((id) => !processed.has(id)).length,
        twice: Number(twice[0]!.n),
        deadLetters,
      });
    }

    const verification = await options.graphql<{
      verifyAuditChain: { ok: boolean; checked: number; problem: string | null };
    }>('{ verifyAuditChain { ok checked problem } }');

    // The reconnecting client catches up with a query of every acknowledged task (the pushes it missed
    // while disconnected are counted apart; Redis's replay list often covers the gap).
    const missed = ids.filter((id) => !run.reconnecting.completed.has(id));
    let caughtUp = 0;
    for (let i = 0; i < ids.length; i += 15) {
      const batch = ids.slice(i, i + 15);
      const query = `{ ${batch.map((id, n) => `t${n}: task(id: "${id}") { id status }`).join(' ')} }`;
      const data = await options.graphql<Record<string, { id: string; status: string } | null>>(query);
      caughtUp += Object.values(data).filter((t) => t?.status === 'COMPLETED').length;
    }
    const reconnectedAt = run.gatewayKilledAt;
    return {
      acknowledged: ids.length,
      lostWrites,
      unfinished: await unfinished(),
      groups,
      clientErrors: run.load.errors,
      inFlightAtKills: run.kills.reduce((sum, k) => sum + k.inFlight, 0),
      audit: verification.verifyAuditChain,
      survivor: {
        connections: run.survivor.connections,
        receivedAfterKill: run.survivor.received.filter((t) => t > run.gatewayKilledAt).length,
      },
      reconnecting: {
        connections: run.reconnecting.connections,
        receivedAfterReconnect: run.reconnecting.received.filter((t) => t > reconnectedAt).length,
        missed: missed.length,
        caughtUp,
      },
    };
  } finally {
    redis.disconnect();
    await transport.close();
  }
}
