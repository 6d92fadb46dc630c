// Redis goes away and comes back: events published during the outage wait in the outbox and
// arrive after it, each handled once. Uses its own redis-server on a free port (never the shared one),
// with an append-only file as in production so the streams and groups survive the restart.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Redis } from 'ioredis';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { type EventSource, publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import type { Logger } from '#kernel/logger.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { appOrm, eventually, tenantSource, testWorkerIdentity } from './support.ts';

let db: TestDatabase;
let orm: MikroORM;
let dir: string;
let port: number;
let server: ChildProcess | undefined;
let source: EventSource;
let issuer: TestIssuer;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });

async function startRedis(): Promise<void> {
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
    ],
    { stdio: 'ignore' },
  );
  await eventually(async () => {
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }, 'redis-server up');
}

/** A logger that keeps the messages of its warnings in `into`. */
function recordingLogger(into: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message: string) => {
      into.push(message);
    },
    error: () => {},
    child: () => logger,
  };
  return logger;
}

async function stopRedis(): Promise<void> {
  const child = server;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  orm = await appOrm(db);
  source = await tenantSource(orm, 'outage');
  dir = await mkdtemp(join(tmpdir(), 'wtdc-redis-'));
  port = await freePort();
  await startRedis();
});
afterAll(async () => {
  await stopRedis();
  await rm(dir, { recursive: true, force: true });
  await orm?.close();
  await db?.close();
  await issuer?.close();
});

describe('Redis restart', () => {
  it('delivers events published while Redis was down once it is back, each once', async () => {
    const transport = new RedisStreamTransport({ url: `redis://127.0.0.1:${port}`, prefix: 'restart:' });
    // The relay's warnings are the positive signal that it tried to deliver during the outage and could not.
    const relayWarnings: string[] = [];
    const relay = new OutboxRelay({
      url: db.appUrl,
      transport,
      pollMs: 100,
      logger: recordingLogger(relayWarnings),
    });
    const seen: string[] = [];
    const worker = new EventWorker({
      orm,
      transport,
      consumerName: 'w1',
      concurrency: 4,
      blockMs: 200,
      actorFor: testWorkerIdentity(issuer).actorFor,
      consumer: defineConsumer({
        group: 'restart',
        events: [SampleUploaded],
        async handle(event) {
          seen.push(event.payload.title);
        },
      }),
    });
    const upload = (title: string) => {
      const documentId = randomUUID();
      return withTenant(orm, source.tenantId, (em) =>
        publish(em, SampleUploaded, {
          ...source,
          aggregate: { type: 'Document', id: documentId },
          payload: { documentId, title, mimeType: 'text/plain' },
        }),
      );
    };
    try {
      relay.start();
      await worker.start();
      await upload('before');
      await eventually(async () => seen.length === 1, 'the first event handled');

      await stopRedis();
      const during = ['during 1', 'during 2', 'during 3', 'during 4', 'during 5'];
      for (const title of during) await upload(title);
      // The relay took the rows, failed to append them, and rolled back: they wait in the outbox
      // (polled: on PGlite a relay's failing transaction may be open).
      const failures = () => relayWarnings.filter((m) => m === 'relay failed; retrying').length;
      const failedBefore = failures();
      await eventually(async () => failures() > failedBefore, 'the relay failing while Redis is down');
      await eventually(async () => {
        const waiting = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
        return Number(waiting[0]!.n) === 5;
      }, 'five events waiting in the outbox');
      expect(seen).toEqual(['before']);

      await startRedis();
      await eventually(async () => seen.length >= 6, 'the outage events handled', 90_000);
      // Settled: nothing left in the outbox, nothing undelivered or unacknowledged in the stream, so
      // no further delivery can come, and what was seen is final.
      await eventually(async () => {
        const left = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
        const stats = await transport.stats(SampleUploaded.type, 'restart');
        return Number(left[0]!.n) === 0 && stats.pending === 0 && stats.lag === 0 && worker.inFlight === 0;
      }, 'outbox empty and every entry acknowledged');
      expect([...seen].sort()).toEqual(['before', ...during].sort());
      expect(worker.counters).toMatchObject({ handled: 6, deadLettered: 0 });
      expect((await transport.stats(SampleUploaded.type, 'restart')).length).toBe(6);
    } finally {
      await worker.close();
      await relay.close();
      await transport.close();
    }
  }, 150_000);
});
