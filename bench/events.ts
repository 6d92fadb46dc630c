// npm run bench:events — on one Redis: (a) our stream transport, publish → consume → ack with a
// no-op handler at concurrency 16; (b) the outbox path end to end (publish in a tenant transaction
// → relay → Redis Streams → worker → processed-id ledger, native PostgreSQL) flat out and paced at
// 2,000 events/s; (c) BullMQ with the same no-op jobs and concurrency. Keys use a unique prefix and
// are deleted afterwards; the database is a throwaway one.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import { SampleUploaded } from '#testing/sample-events.ts';
import { cpuPerEvent, sampleCpu } from './cpu.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PG_URL = process.env.WIDGETDC_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.WIDGETDC_TEST_PG_URL = PG_URL;
const N = Number(process.env.BENCH_EVENTS ?? 20_000);
const N_OUTBOX = Number(process.env.BENCH_OUTBOX_EVENTS ?? 10_000);
const CONCURRENCY = 16;
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 2_000);
const PACED_SECONDS = 5;
/** Pause between the flat-out and the paced run of (b). */
const SETTLE_MS = 2_000;
/** The (b) consumer's maxBatch: one tenant's events read together share a transaction (1: none). */
const MAX_BATCH = Number(process.env.BENCH_MAX_BATCH ?? 64);
const prefix = `wtdc-bench:${randomBytes(4).toString('hex')}:`;

const { RedisStreamTransport } = await import('#events/transport/redis-transport.ts');
const { createTestDatabase } = await import('#testing/test-database.ts');
const { createOrm } = await import('#kernel/db/orm.ts');
const { withTenant } = await import('#kernel/db/tenant-context.ts');
const { publish } = await import('#events/producer/outbox.ts');

interface Result {
  name: string;
  events: number;
  seconds: number;
  p50: number;
  p99: number;
  /** CPU microseconds per event by process kind (the outbox runs). */
  cpu?: Map<string, number>;
  /** The rate the publishers reached (the paced run). */
  published?: number;
  /** Mean events per worker transaction and per relay pass (the outbox runs). */
  shape?: { perTransaction: number; perPass: number };
}

/** The bench worker's counters (bench/events-worker.ts). */
interface WorkerReport {
  transactions: number;
  handled: number;
  passes: number;
  relayed: number;
}
let reported: ((report: WorkerReport) => void) | undefined;

const log = (line: string) => process.stderr.write(`${line}\n`);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const summarize = (name: string, latencies: number[], seconds: number): Result => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { name, events: latencies.length, seconds, p50: pct(sorted, 0.5), p99: pct(sorted, 0.99) };
};

async function streamTransport(): Promise<Result> {
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  const stream = 'sample.uploaded';
  await transport.ensureGroup(stream, 'bench');
  const latencies: number[] = [];
  const started = performance.now();
  const consumer = (async () => {
    while (latencies.length < N) {
      const batch = await transport.read('bench', 'c1', [stream], CONCURRENCY, 1000);
      await Promise.all(
        batch.map(async (d) => {
          latencies.push(Date.now() - Number(d.body));
          await transport.ack('bench', stream, [d.id]);
        }),
      );
    }
  })();
  for (let i = 0; i < N; i += 100) {
    await transport.append(
      Array.from({ length: 100 }, () => ({ stream, tenantId: '', body: String(Date.now()) })),
    );
  }
  await consumer;
  const result = summarize('(a) stream transport', latencies, (performance.now() - started) / 1000);
  await transport.destroy([stream]);
  await transport.close();
  return result;
}

async function bullmq(): Promise<Result> {
  const url = new URL(REDIS_URL);
  const connection = { host: url.hostname, port: Number(url.port || 6379) };
  const queue = new Queue('bench', { connection, prefix: `${prefix}bull` });
  const latencies: number[] = [];
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const worker = new Worker(
    'bench',
    async (job) => {
      latencies.push(Date.now() - (job.data as { t: number }).t);
      if (latencies.length >= N) done();
    },
    { connection, prefix: `${prefix}bull`, concurrency: CONCURRENCY },
  );
  const started = performance.now();
  for (let i = 0; i < N; i += 100) {
    await queue.addBulk(Array.from({ length: 100 }, () => ({ name: 'noop', data: { t: Date.now() } })));
  }
  await finished;
  const result = summarize('(c) BullMQ', latencies, (performance.now() - started) / 1000);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return result;
}

async function outbox(): Promise<Result[]> {
  log(`(b) creating a throwaway database on ${PG_URL.replace(/\/\/[^@]*@/, '//…@')} and migrating it`);
  const db = await createTestDatabase('postgres');
  if (process.env.BENCH_SYNCHRONOUS_COMMIT === 'off') {
    const name = new URL(db.appUrl).pathname.slice(1);
    await db.asSuperuser(`alter database ${name} set synchronous_commit = off`);
    log('(b) synchronous_commit = off for this run (commits are not flushed before they are acknowledged)');
  }
  const orm = await createOrm({ url: db.appUrl, entities: [], poolMax: 20 });
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  const tenantId = randomUUID();
  try {
    await withTenant(orm, tenantId, (em) =>
      em.execute('insert into platform.tenants (id, slug, display_name) values (?, ?, ?)', [
        tenantId,
        'bench',
        'Bench',
      ]),
    );
    let latencies: number[] = [];
    const child = fork(join(import.meta.dirname, 'events-worker.ts'), [], {
      execPath: process.execPath,
      env: {
        ...process.env,
        BENCH_DB_URL: db.appUrl,
        BENCH_REDIS_URL: REDIS_URL,
        BENCH_PREFIX: prefix,
        BENCH_CONCURRENCY: process.env.BENCH_OUTBOX_CONCURRENCY ?? String(CONCURRENCY),
        BENCH_MAX_BATCH: String(MAX_BATCH),
      },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the bench worker exited (${code})`)));
      child.on('message', (m: { ready?: boolean; latencies?: number[]; report?: WorkerReport }) => {
        if (m.ready) resolve();
        if (m.latencies) latencies.push(...m.latencies);
        if (m.report) reported?.(m.report);
      });
    });
    log(
      `(b) relay and worker (concurrency ${process.env.BENCH_OUTBOX_CONCURRENCY ?? CONCURRENCY}, maxBatch ${MAX_BATCH}) run in a child process, as in a deployment`,
    );
    const source = { tenantId, actor: { kind: 'user' as const, id: 'bench-user', name: 'bench' } };
    const one = () => {
      const documentId = randomUUID();
      return withTenant(orm, tenantId, (em) =>
        publish(em, SampleUploaded, {
          ...source,
          aggregate: { type: 'Document', id: documentId },
          payload: { documentId, title: 'bench', mimeType: 'text/plain' },
        }),
      );
    };
    const waitFor = async (n: number) => {
      while (latencies.length < n) await sleep(5);
    };
    const childPid = child.pid;
    const report = () =>
      new Promise<WorkerReport>((resolve) => {
        reported = resolve;
        child.send({ report: true });
      });
    const shape = (before: WorkerReport, after: WorkerReport) => ({
      perTransaction:
        (after.handled - before.handled) / Math.max(1, after.transactions - before.transactions),
      perPass: (after.relayed - before.relayed) / Math.max(1, after.passes - before.passes),
    });
    const cpu = () =>
      sampleCpu((pid, command) => {
        if (pid === process.pid) return 'publishers';
        if (pid === childPid) return 'relay+worker';
        if (command === 'postgres') return 'PostgreSQL';
        if (command === 'redis-server') return 'Redis';
        return undefined;
      });

    log(`(b) flat out: ${N_OUTBOX} events, 16 concurrent publishing transactions`);
    let before = cpu();
    let reportBefore = await report();
    let started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N_OUTBOX) {
          next++;
          await one();
        }
      }),
    );
    await waitFor(N_OUTBOX);
    const flat = summarize('(b) outbox end to end', latencies, (performance.now() - started) / 1000);
    flat.cpu = cpuPerEvent(before, cpu(), N_OUTBOX);
    flat.shape = shape(reportBefore, await report());

    // Out of the flat-out run's wake first: its 10,000 deleted outbox rows are being vacuumed, and
    // the steady state is what the paced run measures.
    log(`(b) settling for ${SETTLE_MS / 1000} s`);
    await sleep(SETTLE_MS);
    const paced = PACED_RATE * PACED_SECONDS;
    log(`(b) paced: ${PACED_RATE} events/s for ${PACED_SECONDS} s`);
    latencies = [];
    before = cpu();
    reportBefore = await report();
    started = performance.now();
    const inFlight: Promise<unknown>[] = [];
    for (let i = 0; i < paced; i++) {
      const due = started + (i * 1000) / PACED_RATE;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      inFlight.push(one());
    }
    await Promise.all(inFlight);
    const publishedIn = (performance.now() - started) / 1000;
    await waitFor(paced);
    const pacedResult = summarize(
      `(b) outbox paced at ${PACED_RATE}/s`,
      latencies,
      (performance.now() - started) / 1000,
    );
    pacedResult.cpu = cpuPerEvent(before, cpu(), paced);
    pacedResult.shape = shape(reportBefore, await report());
    pacedResult.published = paced / publishedIn;
    child.removeAllListeners('exit');
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.disconnect();
    });
    return [flat, pacedResult];
  } finally {
    await transport.destroy(['sample.uploaded']);
    await transport.close();
    await orm.close();
    await db.close();
  }
}

log(
  `bench:events — Redis ${REDIS_URL}, ${N} events for (a)/(c), ${N_OUTBOX} for (b), concurrency ${CONCURRENCY}`,
);
/** Where the CPU went, per event, in an outbox run. */
const cpuLine = (r: Result) => {
  if (!r.cpu || r.cpu.size === 0) return '';
  const parts = [...r.cpu].map(([name, us]) => `${name} ${us.toFixed(0)}`);
  const total = [...r.cpu.values()].reduce((a, b) => a + b, 0);
  const shape = r.shape
    ? `\n    events per worker transaction ${r.shape.perTransaction.toFixed(1)}, per relay pass ${r.shape.perPass.toFixed(1)}`
    : '';
  return `    CPU µs/event: ${parts.join(', ')}; total ${total.toFixed(0)} (the machine's ${cpus} cores allow ~${((cpus * 1e6) / total).toFixed(0)} events/s)${shape}\n`;
};
const cpus = availableParallelism();
if (process.env.BENCH_ONLY === 'b') {
  for (const r of await outbox()) {
    process.stdout.write(
      `${r.name}: ${(r.events / r.seconds).toFixed(0)}/s p50 ${r.p50} p99 ${r.p99}${r.published ? ` (published at ${r.published.toFixed(0)}/s)` : ''}\n${cpuLine(r)}`,
    );
  }
  process.exit(0);
}
log('(a) stream transport…');
const a = await streamTransport();
log('(c) BullMQ…');
const c = await bullmq();
const [b, bPaced] = await outbox();
const rate = (r: Result) => r.events / r.seconds;
for (const r of [a, b!, bPaced!, c]) {
  process.stdout.write(
    `${r.name.padEnd(30)} ${rate(r).toFixed(0).padStart(7)} events/s   p50 ${r.p50} ms   p99 ${r.p99} ms   (${r.events} events)\n${cpuLine(r)}`,
  );
}
process.stdout.write(`(b) paced: the publishers reached ${bPaced!.published!.toFixed(0)} events/s\n`);
process.stdout.write(`ratio (a)/(c) throughput: ${(rate(a) / rate(c)).toFixed(2)}\n`);
process.stdout.write(`ratio (b)/(c) throughput: ${(rate(b!) / rate(c)).toFixed(2)}\n`);
process.stdout.write(`(b) paced at ${PACED_RATE}/s: p99 ${bPaced!.p99} ms (target < 50 ms)\n`);
process.exit(0);
