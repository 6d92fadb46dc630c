// The worker's concurrency bounds the handlers running at once, also when a reclaim (XAUTOCLAIM)
// and a blocking read (XREADGROUP) both hand it events: before, both counted the free slots and
// the worker ran more transactions than its database pool (concurrency + 1) could serve beside
// them, so a handler needing a side transaction (the ingestion's progress statuses) waited for a
// connection forever, holding its event (the crash suite's "every document finished" timeout).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { Permits } from '#events/consumer/worker/permits.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { type EventSource, publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { testDatabaseKind } from '#testing/test-database.ts';
import { eventually, makeTransport, testWorkerIdentity, useEventSuite } from './support.ts';

const suite = useEventSuite({ tenants: ['acme'], issuer: true });
const T = 'sample.uploaded';
// On PGlite one open transaction holds the whole database, so two handlers' transactions never run
// at once whatever the worker allows: the bound is observable on servers (the postgres project, which
// CI requires). Reclaim order and freshness hold on both.
const onServer = testDatabaseKind() !== 'pglite';

/** A promise with its resolve function (Promise.withResolvers is past this project's lib). */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Permits', () => {
  it('lets at most its size run at once, the rest in arrival order', async () => {
    const permits = new Permits(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, gate);
    const runs = gates.map((g, n) =>
      permits.run(async () => {
        order.push(n);
        most = Math.max(most, ++running);
        await g.promise;
        running--;
        return n;
      }),
    );
    await sleep(0);
    expect(order).toEqual([0, 1]);
    expect(permits.waiting).toBe(3);
    gates[1]!.resolve();
    await runs[1];
    await sleep(0);
    expect(order).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(2);
    await expect(permits.run(async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await permits.run(async () => 'free again')).toBe('free again');
  });
});

describe.each(['redis', 'postgres'] as const)('EventWorker concurrency on %s', (kind) => {
  let transport: StreamTransport;
  let relay: OutboxRelay;
  let orm: MikroORM;
  let acme: EventSource;

  beforeAll(async () => {
    transport = makeTransport(kind, suite.db);
    relay = new OutboxRelay({ url: suite.db.appUrl, transport, pollMs: 20 });
    relay.start();
    orm = await createOrm({ url: suite.db.appUrl, entities: [], poolMax: 3 });
    acme = suite.source('acme');
  });
  // Each test's stream of its own: a new group reads the stream from its start.
  beforeEach(() => transport.destroy([T]));
  afterAll(async () => {
    await relay.close();
    await transport.destroy([T]);
    await transport.close();
    await orm.close();
  });

  const uploaded = (title: string) => {
    const documentId = randomUUID();
    return withTenant(suite.orm, acme.tenantId, (em) =>
      publish(em, SampleUploaded, {
        ...acme,
        aggregate: { type: 'document', id: documentId },
        payload: { documentId, title, mimeType: 'text/plain' },
      }),
    );
  };

  if (onServer)
    it('runs no more handlers than its concurrency when a reclaim and a read overlap', async () => {
      const group = `bounded-${kind}`;
      await transport.ensureGroup(T, group);
      // An entry a crashed consumer left pending (the worker's reclaim takes it), and a new one.
      await uploaded('left behind');
      await eventually(
        async () => (await transport.read(group, 'crashed', [T], 1, 50)).length === 1,
        'the crashed consumer read its entry',
      );
      await uploaded('first');
      await eventually(
        async () => (await transport.stats(T, group)).lag === 1,
        'the new entry in the stream',
      );
      await sleep(300); // the crashed consumer's entry is now idle past claimIdleMs
      let running = 0;
      let most = 0;
      const handled: string[] = [];
      const release = gate();
      const worker = new EventWorker({
        orm,
        transport,
        consumerName: `${group}-1`,
        concurrency: 2,
        actorFor: testWorkerIdentity(suite.issuer).actorFor,
        claimIdleMs: 200,
        retryBackoffMs: 10,
        // After taking "first", a read may wait long for one more entry, with one free slot.
        blockMs: 5_000,
        consumer: defineConsumer({
          group,
          events: [SampleUploaded],
          async handle(event) {
            most = Math.max(most, ++running);
            await release.promise;
            running--;
            handled.push(event.payload.title);
          },
        }),
      });
      await worker.start();
      try {
        // "first" read, "left behind" reclaimed: both slots taken.
        await eventually(async () => running === 2, 'two events being handled', 20_000);
        await uploaded('late');
        await eventually(
          async () => (await transport.stats(T, group)).length === 3,
          'the late one in the stream',
        );
        // Room for the read to take it and a third handler to start, were they allowed to.
        await sleep(500);
        expect(running).toBe(2);
        expect(worker.inFlight).toBe(2);
        release.resolve();
        await eventually(async () => handled.length === 3, 'all three handled', 20_000);
        expect(handled.sort()).toEqual(['first', 'late', 'left behind']);
        expect(most).toBe(2);
        await eventually(async () => (await transport.stats(T, group)).pending === 0, 'all acknowledged');
      } finally {
        release.resolve();
        await worker.close();
      }
    }, 60_000);

  it('reclaims what a crashed consumer left before reading a backlog of new entries', async () => {
    const group = `first-things-${kind}`;
    await transport.ensureGroup(T, group);
    await uploaded('left behind');
    await eventually(
      async () => (await transport.read(group, 'crashed', [T], 1, 50)).length === 1,
      'the crashed consumer read its entry',
    );
    for (let n = 1; n <= 6; n++) await uploaded(`new ${n}`);
    await eventually(async () => (await transport.stats(T, group)).lag === 6, 'the backlog in the stream');
    await sleep(300); // the crashed consumer's entry is now idle past claimIdleMs
    const handled: string[] = [];
    const worker = new EventWorker({
      orm,
      transport,
      consumerName: `${group}-1`,
      concurrency: 1,
      actorFor: testWorkerIdentity(suite.issuer).actorFor,
      claimIdleMs: 200,
      retryBackoffMs: 10,
      blockMs: 100,
      consumer: defineConsumer({
        group,
        events: [SampleUploaded],
        async handle(event) {
          handled.push(event.payload.title);
          await sleep(100); // each event outlasts the reclaim period: a reclaim is due after each
        },
      }),
    });
    await worker.start();
    try {
      await eventually(async () => handled.length === 7, 'all seven handled', 30_000);
      // The first read may come before the first reclaim is due; the reclaim then goes first.
      expect(handled.indexOf('left behind')).toBeLessThanOrEqual(1);
      expect(worker.counters.reclaimed).toBe(1);
    } finally {
      await worker.close();
    }
  }, 60_000);

  it('keeps an event it works on fresh, so another consumer does not take it over', async () => {
    const group = `fresh-${kind}`;
    await transport.ensureGroup(T, group);
    const attempts: number[] = [];
    const make = (name: string) =>
      new EventWorker({
        orm,
        transport,
        consumerName: `${group}-${name}`,
        concurrency: 1,
        actorFor: testWorkerIdentity(suite.issuer).actorFor,
        // Long enough that a loaded machine (a touch delayed by a busy event loop or database) does
        // not let the entry go idle; the handler still outlasts it three times over.
        claimIdleMs: 1_500,
        retryBackoffMs: 10,
        blockMs: 50,
        consumer: defineConsumer({
          group,
          events: [SampleUploaded],
          async handle(_event, ctx) {
            attempts.push(ctx.attempt);
            await sleep(4_500); // three times claimIdleMs
          },
        }),
      });
    const first = make('a');
    await first.start();
    await uploaded('slow');
    await eventually(async () => attempts.length === 1, 'the slow event started');
    const second = make('b');
    await second.start();
    try {
      await eventually(async () => first.counters.handled === 1, 'the slow event handled', 20_000);
      await eventually(async () => (await transport.stats(T, group)).pending === 0, 'acknowledged');
      expect(attempts).toEqual([1]);
      expect(second.counters.reclaimed).toBe(0);
      expect(second.counters.duplicates).toBe(0);
    } finally {
      await second.close();
      await first.close();
    }
  }, 60_000);
});
