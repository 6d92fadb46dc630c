// One contract, two transports: Redis Streams and the embedded Postgres transport must behave
// the same for groups, pending entries, reclaim, dead letters, and the worker on top of them.
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  inspectDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  streamStats,
} from '#events/admin/dead-letters.ts';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { RetryableError, UnrecoverableError } from '#events/errors.ts';
import { type EventSource, publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { Delivery, StreamTransport } from '#events/transport/transport.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleDecided, SampleUploaded } from '#testing/sample-events.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { appOrm, eventually, makeTransport, tenantSource, testWorkerIdentity } from './support.ts';

let db: TestDatabase;
let orm: MikroORM;
let acme: EventSource;
let umbrella: EventSource;
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  orm = await appOrm(db);
  acme = await tenantSource(orm, 'acme');
  umbrella = await tenantSource(orm, 'umbrella');
});
afterAll(async () => {
  await orm?.close();
  await db?.close();
  await issuer?.close();
});

const body = (n: number) => JSON.stringify({ n });
const T = 'sample.uploaded';

describe.each(['redis', 'postgres'] as const)('stream transport contract: %s', (kind) => {
  let transport: StreamTransport;
  beforeAll(() => {
    transport = makeTransport(kind, db);
  });
  afterAll(async () => {
    await transport.destroy(['sample.uploaded', 'task.created', 'document.ingested', 'task.status_changed']);
    await transport.close();
  });

  it('delivers in order, splits one group between consumers, and gives every group everything', async () => {
    await transport.ensureGroup(T, 'g1');
    await transport.ensureGroup(T, 'g2');
    const ids = await transport.append(
      [1, 2, 3, 4].map((n) => ({ stream: T, tenantId: acme.tenantId, body: body(n) })),
    );
    expect(ids).toHaveLength(4);
    const a = await transport.read('g1', 'a', [T], 2, 10);
    const b = await transport.read('g1', 'b', [T], 10, 10);
    expect(a.map((d) => d.body)).toEqual([body(1), body(2)]);
    expect(b.map((d) => d.body)).toEqual([body(3), body(4)]);
    expect(await transport.read('g1', 'a', [T], 10, 10)).toEqual([]);
    const g2 = await transport.read('g2', 'c', [T], 10, 10);
    expect(g2.map((d) => [d.id, d.deliveryCount])).toEqual(ids.map((id) => [id, 1]));
    const stats = await transport.stats(T, 'g1');
    expect(stats).toMatchObject({ length: 4, pending: 4, lag: 0, deadLetters: 0 });
    await transport.ack(
      'g1',
      T,
      [...a, ...b].map((d) => d.id),
    );
    expect(await transport.stats(T, 'g1')).toMatchObject({ pending: 0, oldestPendingMs: 0 });
    expect(await transport.groups(T)).toEqual(['g1', 'g2']);
  });

  it('counts undelivered entries as lag', async () => {
    await transport.ensureGroup('task.created', 'lagging');
    await transport.append(
      [1, 2, 3].map((n) => ({ stream: 'task.created', tenantId: acme.tenantId, body: body(n) })),
    );
    await transport.read('lagging', 'a', ['task.created'], 1, 10);
    expect(await transport.stats('task.created', 'lagging')).toMatchObject({ length: 3, pending: 1, lag: 2 });
  });

  it('lets another consumer reclaim entries left pending past the idle time, counting deliveries', async () => {
    await transport.ensureGroup(T, 'g3');
    const [first] = await transport.read('g3', 'crashed', [T], 1, 10);
    expect(await transport.claimStale('g3', 'rescuer', T, 60_000, 10)).toEqual([]);
    await new Promise((r) => setTimeout(r, 120));
    const claimed = await transport.claimStale('g3', 'rescuer', T, 100, 10);
    expect(claimed.map((d) => [d.id, d.body, d.deliveryCount])).toEqual([[first!.id, first!.body, 2]]);
  });

  it('reads and pages dead letters in append order, past ids of more digits', async () => {
    const stream = 'task.status_changed'; // a stream of this test's own
    await transport.ensureGroup(stream, 'digits');
    await transport.append(
      Array.from({ length: 23 }, (_, n) => ({ stream, tenantId: acme.tenantId, body: body(100 + n) })),
    );
    const delivered: Delivery[] = [];
    for (;;) {
      const batch = await transport.read('digits', 'w', [stream], 4, 10);
      if (batch.length === 0) break;
      delivered.push(...batch);
    }
    expect(delivered.map((d) => d.body)).toEqual(Array.from({ length: 23 }, (_, n) => body(100 + n)));
    for (const d of delivered) {
      await transport.deadLetter(d, {
        group: 'digits',
        consumer: 'w',
        error: 'x',
        attempts: 1,
        tenantId: acme.tenantId,
      });
    }
    const paged: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await transport.listDeadLetters({ stream, limit: 5, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      paged.push(...page.filter((l) => l.group === 'digits').map((l) => l.body));
      after = page[page.length - 1]!.id;
    }
    expect(paged).toEqual(delivered.map((d) => d.body));
  });

  it('dead-letters with the failure record, filters by tenant, replays and discards', async () => {
    await transport.ensureGroup('document.ingested', 'dl');
    await transport.append([
      { stream: 'document.ingested', tenantId: acme.tenantId, body: body(10) },
      { stream: 'document.ingested', tenantId: umbrella.tenantId, body: body(11) },
    ]);
    const delivered = await transport.read('dl', 'w1', ['document.ingested'], 10, 10);
    for (const [i, d] of delivered.entries()) {
      await transport.deadLetter(d, {
        group: 'dl',
        consumer: 'w1',
        error: `boom ${i}`,
        attempts: 3,
        tenantId: i === 0 ? acme.tenantId : umbrella.tenantId,
      });
    }
    expect(await transport.stats('document.ingested', 'dl')).toMatchObject({ pending: 0, deadLetters: 2 });
    const all = await listDeadLetters(transport, { topic: 'document.ingested' });
    expect(all.map((l) => [l.originalId, l.error, l.attempts, l.consumer, l.group])).toEqual([
      [delivered[0]!.id, 'boom 0', 3, 'w1', 'dl'],
      [delivered[1]!.id, 'boom 1', 3, 'w1', 'dl'],
    ]);
    const mine = await listDeadLetters(transport, {
      topic: 'document.ingested',
      tenantId: umbrella.tenantId,
    });
    expect(mine.map((l) => l.event)).toEqual([{ n: 11 }]);
    await expect(
      inspectDeadLetter(transport, 'document.ingested', all[0]!.id, umbrella.tenantId),
    ).rejects.toThrow(/no dead letter/);
    await expect(listDeadLetters(transport, { topic: 'nope.topic' })).rejects.toThrow(
      /unknown topic "nope.topic"/,
    );
    await replayDeadLetter(transport, 'document.ingested', all[0]!.id);
    const again = await transport.read('dl', 'w2', ['document.ingested'], 10, 10);
    expect(again.map((d) => d.body)).toEqual([body(10)]);
    expect(await transport.discardDeadLetter('document.ingested', all[1]!.id)).toBe(true);
    expect(await transport.discardDeadLetter('document.ingested', all[1]!.id)).toBe(false);
    expect(await listDeadLetters(transport, { topic: 'document.ingested' })).toEqual([]);
    const stats = await streamStats(transport, ['document.ingested']);
    expect(stats.map((s) => s.group)).toEqual(['dl']);
  });
});

describe.each(['redis', 'postgres'] as const)('outbox → relay → worker: %s', (kind) => {
  let transport: StreamTransport;
  let relay: OutboxRelay;
  const workers: EventWorker[] = [];
  const uploaded = (source: EventSource, title = 'Q3 report') => {
    const documentId = randomUUID();
    return withTenant(orm, source.tenantId, (em) =>
      publish(em, SampleUploaded, {
        ...source,
        aggregate: { type: 'document', id: documentId },
        payload: { documentId, title, mimeType: 'application/pdf' },
      }),
    );
  };
  const start = async (group: string, handle: (title: string, attempt: number) => Promise<void>) => {
    const worker = new EventWorker({
      orm,
      transport,
      consumerName: `${group}-1`,
      concurrency: 4,
      actorFor: testWorkerIdentity(issuer).actorFor,
      retryBackoffMs: 10,
      blockMs: 100,
      consumer: defineConsumer({
        group,
        events: [SampleUploaded],
        handle: (event, ctx) => handle(event.payload.title, ctx.attempt),
      }),
    });
    await worker.start();
    workers.push(worker);
    return worker;
  };

  beforeAll(() => {
    transport = makeTransport(kind, db);
    relay = new OutboxRelay({ url: db.appUrl, transport, pollMs: 50 });
    relay.start();
  });
  afterAll(async () => {
    for (const w of workers) await w.close();
    await relay.close();
    await transport.destroy(['sample.uploaded', 'task.status_changed']);
    await transport.close();
  });

  it('refuses an invalid event at publish time and stores nothing', async () => {
    await expect(
      withTenant(orm, acme.tenantId, (em) =>
        publish(em, SampleDecided, {
          ...acme,
          aggregate: { type: 'approval', id: 'x' },
          payload: {
            approvalId: 'not-a-uuid',
            taskId: randomUUID(),
            decision: 'MAYBE',
            decidedBy: 'bob',
          } as never,
        }),
      ),
    ).rejects.toThrow(/invalid sample.decided event: payload.approvalId: .*decision/s);
  });

  it('refuses an event for another tenant than the transaction (row-level security)', async () => {
    const documentId = randomUUID();
    await expect(
      withTenant(orm, acme.tenantId, (em) =>
        publish(em, SampleUploaded, {
          ...umbrella,
          aggregate: { type: 'document', id: documentId },
          payload: { documentId, title: 't', mimeType: 'text/plain' },
        }),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('hands each event to the handler once, in the tenant transaction, even when redelivered', async () => {
    const seen: string[] = [];
    const worker = await start(`once-${kind}`, async (title) => {
      seen.push(title);
    });
    const one = await uploaded(acme, 'one');
    await uploaded(umbrella, 'two');
    await eventually(async () => seen.length === 2, 'two events handled');
    expect(seen.sort()).toEqual(['one', 'two']);
    const rows = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
    expect(Number(rows[0]!.n)).toBe(0);
    // A redelivered copy (same event id) is acknowledged without a second effect.
    await transport.append([
      { stream: 'sample.uploaded', tenantId: acme.tenantId, body: JSON.stringify(one) },
    ]);
    await eventually(async () => worker.counters.duplicates === 1, 'the copy skipped');
    expect(seen).toHaveLength(2);
    expect(await listProcessed(orm, acme.tenantId, `once-${kind}`)).toEqual([one.id]);
    expect((await transport.stats('sample.uploaded', `once-${kind}`)).pending).toBe(0);
  });

  it('dead-letters a poison event after exactly 3 attempts and replays it once fixed', async () => {
    const attempts: number[] = [];
    let fixed = false;
    const worker = await start(`poison-${kind}`, async (title, attempt) => {
      if (title !== 'poison') return;
      attempts.push(attempt);
      if (!fixed) throw new RetryableError('the parser is broken');
    });
    const event = await uploaded(acme, 'poison');
    await eventually(async () => worker.counters.deadLettered === 1, 'the poison event dead-lettered');
    expect(attempts).toEqual([1, 2, 3]);
    const [letter] = await listDeadLetters(transport, {
      topic: 'sample.uploaded',
      tenantId: acme.tenantId,
    });
    expect(letter).toMatchObject({
      group: `poison-${kind}`,
      attempts: 3,
      consumer: `poison-${kind}-1`,
      error: 'RetryableError: the parser is broken',
      event: { id: event.id, type: 'sample.uploaded' },
    });
    fixed = true;
    await replayDeadLetter(transport, 'sample.uploaded', letter!.id);
    await eventually(async () => attempts.length === 4, 'the replayed event handled');
    await eventually(
      async () => (await listProcessed(orm, acme.tenantId, `poison-${kind}`)).includes(event.id),
      'recorded',
    );
    expect(await listDeadLetters(transport, { topic: 'sample.uploaded' })).toEqual([]);
    expect(worker.counters.deadLettered).toBe(1);
  });

  it('dead-letters an unrecoverable failure after one attempt', async () => {
    const attempts: number[] = [];
    const worker = await start(`fatal-${kind}`, async (title, attempt) => {
      if (title === 'fatal') {
        attempts.push(attempt);
        throw new UnrecoverableError('cannot ever work');
      }
    });
    await uploaded(umbrella, 'fatal');
    await eventually(async () => worker.counters.deadLettered === 1, 'dead-lettered');
    expect(attempts).toEqual([1]);
    const letters = await listDeadLetters(transport, {
      topic: 'sample.uploaded',
      tenantId: umbrella.tenantId,
    });
    expect(letters.map((l) => [l.attempts, l.error])).toEqual([[1, 'UnrecoverableError: cannot ever work']]);
  });
});

async function listProcessed(orm: MikroORM, tenantId: string, group: string): Promise<string[]> {
  return withTenant(orm, tenantId, async (em) =>
    (
      await em.execute<{ event_id: string }[]>(
        'select event_id from platform.processed_events where consumer_group = ?',
        [group],
      )
    ).map((r) => r.event_id),
  );
}
