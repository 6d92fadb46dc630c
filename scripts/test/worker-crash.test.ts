// Crash suite: real worker processes (scripts/worker.ts, each with a relay) share one group while
// 1,000 events flow; workers are SIGKILLed at random moments and replaced. Every event's effect
// must happen exactly once and none may be lost.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type PublishItem, publishMany } from '#events/producer/outbox.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { EFFECTS_TABLE_SQL } from '../../events/test/fixtures/effect-consumer.ts';
import { appOrm, eventually, REDIS_URL, tenantSource, workerIdentityEnv } from '../../events/test/support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EVENTS = 1000;
const WORKERS = 3;

let db: TestDatabase;
let orm: MikroORM;
const prefix = `wtdc-crash:${randomBytes(5).toString('hex')}:`;
const group = `crash-${randomBytes(4).toString('hex')}`;
const children = new Set<ChildProcess>();
let issuer: TestIssuer;
let identity: Awaited<ReturnType<typeof workerIdentityEnv>>;

beforeAll(async () => {
  issuer = await startTestIssuer();
  identity = await workerIdentityEnv(issuer);
  db = await createTestDatabase();
  for (const sql of EFFECTS_TABLE_SQL.split(';').filter((s) => s.trim())) await db.asSuperuser(sql);
  orm = await appOrm(db);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  await transport.destroy(['sample.uploaded']);
  await transport.close();
  await orm?.close();
  await db?.close();
  await identity?.close();
  await issuer?.close();
});

function startWorker(): ChildProcess {
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'node'),
    [
      'scripts/worker.ts',
      '--group',
      group,
      '--concurrency',
      '8',
      '--consumers',
      join(ROOT, 'events/test/fixtures/effect-consumer.ts'),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: db.appUrl,
        DB_POOL_MAX: '4',
        REDIS_URL,
        EVENTS_STREAM_PREFIX: prefix,
        EVENTS_CLAIM_IDLE_MS: '1500',
        EVENTS_RELAY_POLL_MS: '100',
        EVENTS_RETRY_BACKOFF_MS: '20',
        TEST_CONSUMER_GROUP: group,
        LOG_LEVEL: 'error',
        ...identity.env,
      },
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker processes under SIGKILL', () => {
  it(`applies each of ${EVENTS} events exactly once while workers are killed at random`, async () => {
    const source = await tenantSource(orm, 'crashco');
    for (let i = 0; i < WORKERS; i++) startWorker();
    let publishing = true;
    let kills = 0;
    const killer = (async () => {
      await sleep(1500);
      while (publishing || kills < 6) {
        await sleep(200 + Math.floor(Math.random() * 500));
        const victims = [...children];
        const victim = victims[Math.floor(Math.random() * victims.length)];
        if (victim?.kill('SIGKILL')) kills++;
        startWorker();
      }
    })();
    for (let sent = 0; sent < EVENTS; sent += 25) {
      const batch: PublishItem[] = Array.from({ length: 25 }, (_, i) => {
        const documentId = crypto.randomUUID();
        return {
          definition: SampleUploaded,
          input: {
            ...source,
            aggregate: { type: 'document', id: documentId },
            payload: { documentId, title: `doc ${sent + i}`, mimeType: 'text/plain' },
          },
        };
      });
      await withTenant(orm, source.tenantId, (em) => publishMany(em, batch));
      await sleep(20);
    }
    publishing = false;
    await killer;
    const count = async () =>
      (
        await db.asSuperuser<{ total: string; distinct: string }>(
          'select count(*) as total, count(distinct event_id) as distinct from public.test_effects where group_name = $1',
          [group],
        )
      )[0]!;
    await eventually(async () => Number((await count()).distinct) >= EVENTS, 'every event applied', 150_000);
    // Settled before counting: every entry acknowledged (a killed worker's are reclaimed first) and
    // the outbox empty, so no copy of an event is still in flight or yet to come.
    const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
    try {
      await eventually(
        async () => {
          const stats = await transport.stats('sample.uploaded', group);
          const outbox = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
          return stats.pending === 0 && stats.lag === 0 && Number(outbox[0]!.n) === 0;
        },
        'every entry acknowledged',
        60_000,
      );
    } finally {
      await transport.close();
    }
    const { total, distinct } = await count();
    const processed = await db.asSuperuser<{ n: string }>(
      'select count(*) as n from platform.processed_events where consumer_group = $1',
      [group],
    );
    process.stderr.write(
      `crash suite (${db.kind}): ${EVENTS} published, ${kills} workers SIGKILLed, effects ${total} (distinct ${distinct}), processed ids ${processed[0]!.n}\n`,
    );
    expect(Number(distinct)).toBe(EVENTS);
    expect(Number(total)).toBe(EVENTS);
    expect(Number(processed[0]!.n)).toBe(EVENTS);
    // one audit record per effect, committed with it (none for a rolled-back or skipped copy)
    const audited = await db.asSuperuser<{ n: string }>(
      'select count(distinct target_id) as n from audit.audit_events where action = $1 having count(*) = count(distinct target_id)',
      [`${group}.sample.uploaded`],
    );
    expect(Number(audited[0]?.n)).toBe(EVENTS);
    const outbox = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
    expect(Number(outbox[0]!.n)).toBe(0);
  }, 240_000);
});
