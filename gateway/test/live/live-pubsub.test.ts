import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { createInProcessPubSub } from '../../src/live/in-process-pubsub.ts';
import type { LivePubSub } from '../../src/live/live-pubsub.ts';
import { createRedisPubSub } from '../../src/live/redis-pubsub.ts';

const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const tenantA = randomUUID();
const tenantB = randomUUID();

const implementations: [string, () => Promise<LivePubSub>][] = [
  ['in-process', async () => createInProcessPubSub()],
  // A unique prefix per test keeps runs apart on the shared Redis.
  ['redis', () => createRedisPubSub({ url: REDIS_URL, prefix: `test:live:${randomUUID()}` })],
];

describe.each(implementations)('%s live pub/sub', (_name, create) => {
  let live: LivePubSub;
  beforeEach(async () => {
    live = await create();
  });
  afterEach(() => live.close());

  it("delivers a tenant's message to its subscriber, stamped with a time and an event id", async () => {
    const sub = live.subscribe(tenantA, 'task.status_changed');
    await sub.ready;
    const taskId = randomUUID();
    expect(
      await live.publish(tenantA, 'task.status_changed', { taskId, from: 'PENDING', to: 'RUNNING' }),
    ).toBe(1);
    const { value } = await sub.next();
    expect(value).toEqual({
      taskId,
      from: 'PENDING',
      to: 'RUNNING',
      at: expect.any(String),
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(Number.isNaN(Date.parse(value!.at))).toBe(false);
    await sub.return();
  });

  it("never delivers another tenant's or another topic's message", async () => {
    const sub = live.subscribe(tenantA, 'killswitch.changed');
    await sub.ready;
    expect(await live.publish(tenantB, 'killswitch.changed', { engaged: true, reason: 'B only' })).toBe(0);
    await live.publish(tenantA, 'approval.requested', {
      approvalId: randomUUID(),
      taskId: randomUUID(),
      riskLevel: 'HIGH',
    });
    await live.publish(tenantA, 'killswitch.changed', {
      engaged: true,
      reason: 'A',
      at: '2026-11-26T00:00:00.000Z',
    });
    // Messages of one publisher arrive in order, so the first one A sees must be A's own.
    expect((await sub.next()).value).toEqual({
      engaged: true,
      reason: 'A',
      at: '2026-11-26T00:00:00.000Z',
      eventId: expect.any(String),
    });
    await sub.return();
  });

  it('fans one message out to every subscriber of the channel', async () => {
    const first = live.subscribe(tenantA, 'approval.decided');
    const second = live.subscribe(tenantA, 'approval.decided');
    await Promise.all([first.ready, second.ready]);
    const payload = {
      approvalId: randomUUID(),
      taskId: randomUUID(),
      decision: 'APPROVED' as const,
      decidedBy: 'ann@acme',
    };
    await live.publish(tenantA, 'approval.decided', payload);
    expect((await first.next()).value).toMatchObject(payload);
    expect((await second.next()).value).toMatchObject(payload);
    await first.return();
    // The channel stays subscribed while one subscriber remains.
    await live.publish(tenantA, 'approval.decided', { ...payload, decision: 'REJECTED' });
    expect((await second.next()).value).toMatchObject({ decision: 'REJECTED' });
    await second.return();
  });

  it('ends a subscription on return() and every open one on close()', async () => {
    const sub = live.subscribe(tenantA, 'task.status_changed');
    await sub.ready;
    await sub.return();
    expect(await sub.next()).toEqual({ value: undefined, done: true });
    const open = live.subscribe(tenantB, 'task.status_changed');
    await open.ready;
    const pending = open.next();
    await live.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(() => live.subscribe(tenantA, 'task.status_changed')).toThrow(/closed/);
  });

  it("replays a channel's messages published since a time, and only that tenant's and topic's", async () => {
    const before = Date.now();
    const ids = [randomUUID(), randomUUID()];
    for (const eventId of ids) {
      await live.publish(tenantA, 'killswitch.changed', { engaged: true, reason: 'r', eventId });
    }
    await live.publish(tenantB, 'killswitch.changed', { engaged: false, reason: null });
    await live.publish(tenantA, 'task.status_changed', {
      taskId: randomUUID(),
      from: 'PENDING',
      to: 'RUNNING',
    });
    const replayed = await live.recent(tenantA, 'killswitch.changed', before);
    expect(replayed.map((m) => m.eventId)).toEqual(ids);
    expect(await live.recent(tenantA, 'killswitch.changed', Date.now() + 1_000)).toEqual([]);
  });

  it('remembers resume marks by key', async () => {
    const key = randomUUID();
    expect(await live.recall(key)).toBeUndefined();
    await live.remember(key, { closedAt: 42, delivered: ['a'] });
    expect(await live.recall(key)).toEqual({ closedAt: 42, delivered: ['a'] });
  });

  it('refuses a tenant id that is not a UUID and an unknown topic', async () => {
    expect(() => live.subscribe('acme:*', 'task.status_changed')).toThrow(/tenant id must be a UUID/);
    await expect(live.publish('*', 'killswitch.changed', { engaged: false, reason: null })).rejects.toThrow(
      /tenant id must be a UUID/,
    );
    expect(() => live.subscribe(tenantA, 'task.*' as 'task.status_changed')).toThrow(
      /unknown topic "task\.\*"/,
    );
  });
});

describe('redis live pub/sub across processes', () => {
  it('delivers what one gateway replica publishes to a subscriber on another', async () => {
    const prefix = `test:live:${randomUUID()}`;
    const one = await createRedisPubSub({ url: REDIS_URL, prefix });
    const two = await createRedisPubSub({ url: REDIS_URL, prefix });
    try {
      const sub = two.subscribe(tenantA, 'task.status_changed');
      await sub.ready;
      const taskId = randomUUID();
      expect(
        await one.publish(tenantA, 'task.status_changed', { taskId, from: 'RUNNING', to: 'COMPLETED' }),
      ).toBe(1);
      expect((await sub.next()).value).toMatchObject({ taskId, to: 'COMPLETED' });
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('fails to start with a message naming the unreachable Redis', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(
      createRedisPubSub({ url: `redis://:secret@127.0.0.1:${port}`, prefix: 'test:live:none' }),
    ).rejects.toThrow(`cannot connect to Redis at redis://:***@127.0.0.1:${port}`);
  });
});
