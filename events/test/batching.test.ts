// Consumer batching (`maxBatch`): one tenant's events read together share a transaction, an
// audit append and an acknowledgement; a failing event sends the batch back to one transaction per
// event, so only the failing one retries and is dead-lettered, and every other effect happens once.
import { randomUUID } from 'node:crypto';
import { listDeadLetters } from '#events/admin/dead-letters.ts';
import { type AnyEnvelope, type ConsumerContext, defineConsumer } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { RetryableError } from '#events/errors.ts';
import { type EventSource, publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { EFFECTS_TABLE_SQL } from './fixtures/effect-consumer.ts';
import { eventually, makeTransport, testWorkerIdentity, useEventSuite } from './support.ts';

const suite = useEventSuite({ tenants: ['acme', 'umbrella'], issuer: true, superuserSql: EFFECTS_TABLE_SQL });

type Handler = (event: AnyEnvelope<typeof SampleUploaded>, ctx: ConsumerContext) => Promise<void>;

/** The handler's effect: a row in public.test_effects, in the event's transaction. */
const effect = async (event: AnyEnvelope, ctx: ConsumerContext): Promise<void> => {
  await ctx.em.execute('insert into public.test_effects (event_id, group_name) values (?, ?)', [
    event.id,
    ctx.group,
  ]);
};

describe.each(['redis', 'postgres'] as const)('consumer batching: %s', (kind) => {
  let transport: StreamTransport;
  let relay: OutboxRelay;
  const workers: EventWorker[] = [];

  const uploaded = (source: EventSource, title: string, documentId: string = randomUUID()) => {
    return withTenant(suite.orm, source.tenantId, (em) =>
      publish(em, SampleUploaded, {
        ...source,
        aggregate: { type: 'document', id: documentId },
        payload: { documentId, title, mimeType: 'text/plain' },
      }),
    );
  };
  /** Waits until the relay has moved everything, so a worker started next reads it all at once. */
  const relayed = () =>
    eventually(async () => {
      const rows = await suite.db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
      return Number(rows[0]!.n) === 0;
    }, 'the outbox drained');
  const start = async (group: string, maxBatch: number, handle: Handler, concurrency = 16) => {
    const worker = new EventWorker({
      orm: suite.orm,
      transport,
      consumerName: `${group}-1`,
      concurrency,
      actorFor: testWorkerIdentity(suite.issuer).actorFor,
      retryBackoffMs: 10,
      blockMs: 100,
      consumer: defineConsumer({ group, events: [SampleUploaded], maxBatch, handle }),
    });
    await worker.start();
    workers.push(worker);
    return worker;
  };
  const effects = async (group: string) =>
    (
      await suite.db.asSuperuser<{ event_id: string }>(
        'select event_id from public.test_effects where group_name = $1 order by at',
        [group],
      )
    ).map((r) => r.event_id);

  beforeAll(() => {
    transport = makeTransport(kind, suite.db);
    relay = new OutboxRelay({ url: suite.db.appUrl, transport, pollMs: 50 });
    relay.start();
  });
  // each test reads a stream of its own events only
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.close();
    await transport.destroy(['sample.uploaded']);
  });
  afterAll(async () => {
    await relay.close();
    await transport.close();
  });

  it("handles one tenant's events read together in one transaction, each audited with its own record", async () => {
    const group = `together-${kind}`;
    const acmeEvents = [];
    const umbrellaEvents = [];
    const report = randomUUID(); // one aggregate: its events keep their order
    for (let i = 0; i < 6; i++) {
      acmeEvents.push(await uploaded(suite.source('acme'), `a${i}`, report));
      if (i % 3 === 0) umbrellaEvents.push(await uploaded(suite.source('umbrella'), `u${i}`));
    }
    await relayed();
    const transactions = new Map<string, string>();
    const order: string[] = [];
    const worker = await start(group, 8, async (event, ctx) => {
      const [row] = await ctx.em.execute<{ tx: string }[]>('select txid_current()::text as tx');
      transactions.set(event.id, row!.tx);
      order.push(event.payload.title);
      await effect(event, ctx);
    });
    await eventually(async () => worker.counters.handled === 8, 'eight events handled');
    const acmeTx = new Set(acmeEvents.map((e) => transactions.get(e.id)));
    const umbrellaTx = new Set(umbrellaEvents.map((e) => transactions.get(e.id)));
    expect(acmeTx.size).toBe(1);
    expect(umbrellaTx.size).toBe(1);
    expect([...acmeTx][0]).not.toBe([...umbrellaTx][0]);
    // one aggregate's events in publishing order
    expect(order.filter((t) => t.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);
    expect((await effects(group)).sort()).toEqual([...acmeEvents, ...umbrellaEvents].map((e) => e.id).sort());
    const audited = await withTenant(suite.orm, suite.source('acme').tenantId, (em) =>
      em.execute<{ event_id: string; target_id: string; actor_kind: string; on_behalf_of: string }[]>(
        `select input_summary->>'eventId' as event_id, target_id, actor_kind, on_behalf_of
         from audit.audit_events where action = ? order by seq`,
        [`${group}.sample.uploaded`],
      ),
    );
    expect(audited.map((a) => a.event_id)).toEqual(acmeEvents.map((e) => e.id));
    expect(new Set(audited.map((a) => a.target_id))).toEqual(new Set([report]));
    expect(audited.every((a) => a.actor_kind === 'service')).toBe(true);
    expect(audited[0]!.on_behalf_of).toBe(
      `${suite.source('acme').actor.name} (${suite.source('acme').actor.id})`,
    );
    expect(worker.counters.batchFallbacks).toBe(0);
    expect((await transport.stats('sample.uploaded', group)).pending).toBe(0);
    // the batch's records extend the tenant's hash chain like any others
    const broken = await suite.db.asSuperuser<{ seq: string }>(
      `select seq from (
         select seq, prev_hash, hash, lag(seq) over w as prev_seq, lag(hash) over w as prev_row_hash,
           audit.row_hash(prev_hash, id, tenant_id, seq, actor_kind, actor_id, actor, on_behalf_of, action,
             target_type, target_id, outcome, request_id, trace_id, at, input_summary) as recomputed
         from audit.audit_events where tenant_id = $1 window w as (order by seq)
       ) chain
       where hash <> recomputed or (prev_seq is not null and (seq <> prev_seq + 1 or prev_hash <> prev_row_hash))`,
      [suite.source('acme').tenantId],
    );
    expect(broken).toEqual([]);
  });

  it('costs the other events of a batch nothing when one fails: only that one retries and is dead-lettered', async () => {
    const group = `poisoned-${kind}`;
    const titles = ['fine 1', 'fine 2', 'poison', 'fine 3', 'fine 4'];
    const events = [];
    for (const title of titles) events.push(await uploaded(suite.source('acme'), title));
    await relayed();
    const poisonAttempts: number[] = [];
    const worker = await start(group, 8, async (event, ctx) => {
      await effect(event, ctx);
      if (event.payload.title === 'poison') {
        poisonAttempts.push(ctx.attempt);
        throw new RetryableError('cannot digest this one');
      }
    });
    await eventually(
      async () => worker.counters.deadLettered === 1 && worker.counters.handled === 4,
      'the poison event dead-lettered and the others handled',
    );
    // the batch's try is no attempt of its own: attempt 1 runs in it and again on its own
    expect(poisonAttempts).toEqual([1, 1, 2, 3]);
    expect(worker.counters).toMatchObject({
      handled: 4,
      failedAttempts: 3,
      batchFallbacks: 1,
      duplicates: 0,
    });
    const fine = events.filter((e) => e.payload.title !== 'poison').map((e) => e.id);
    expect((await effects(group)).sort()).toEqual([...fine].sort()); // each once, the poison's none
    const letters = await listDeadLetters(transport, {
      topic: 'sample.uploaded',
      tenantId: suite.source('acme').tenantId,
    });
    expect(letters.filter((l) => l.group === group).map((l) => [l.event?.id, l.attempts])).toEqual([
      [events[2]!.id, 3],
    ]);
  });

  it('reads a batch beyond its concurrency ahead', async () => {
    const group = `ahead-${kind}`;
    const report = randomUUID();
    for (let i = 0; i < 8; i++) await uploaded(suite.source('acme'), `r${i}`, report);
    await relayed();
    // concurrency 1 handles one event at a time without batching; with maxBatch 8 it reads 1 + 8
    const worker = await start(group, 8, effect, 1);
    await eventually(async () => worker.counters.handled === 8, 'eight events handled');
    expect(worker.counters.transactions).toBe(1);
  });

  it('handles a redelivered copy in the same batch once', async () => {
    const group = `copies-${kind}`;
    const event = await uploaded(suite.source('umbrella'), 'twice');
    await relayed();
    await transport.append([
      {
        stream: 'sample.uploaded',
        tenantId: suite.source('umbrella').tenantId,
        body: JSON.stringify(event),
      },
    ]);
    const worker = await start(group, 8, effect);
    await eventually(async () => worker.counters.duplicates === 1, 'the copy skipped');
    expect(await effects(group)).toEqual([event.id]);
    expect(worker.counters).toMatchObject({ handled: 1, duplicates: 1, batchFallbacks: 0 });
    expect((await transport.stats('sample.uploaded', group)).pending).toBe(0);
  });
});
