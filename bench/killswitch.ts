// Kill-switch benchmark: 20 runner processes (scripts/worker.ts --group agent-runner, as `npm run
// worker` starts them, concurrency 1) each hold a task mid-step: an `http.get` to a slow server in
// this process that never answers. An operator Admin engages the platform-wide kill switch through
// the gateway; measured per runner: from the mutation's commit (its response's arrival, which follows
// the commit) to the runner's task being PAUSED (seen in agent.tasks, polled every 2 ms), and to its
// in-flight call being aborted (the slow server sees the request's socket close). Released, every task
// resumes mid-step again, and the next round engages again. Tasks belong to several tenants.
// Run: node bench/killswitch.ts [--runners 20] [--rounds 5] [--tenants 4] [--poll-ms <n>] [--pg-url <superuser URL>].
// Without --pg-url a private PostgreSQL cluster is started in a temporary directory (20 runners need
// more connections than a shared server may have free). Target: p99 ≤ 250 ms. Needs Redis.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';

const ROOT = join(import.meta.dirname, '..');
const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGET_P99_MS = 250;
const POLL_MS = 2;
const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readOptions() {
  const { values } = parseArgs({
    options: {
      runners: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '5' },
      tenants: { type: 'string', default: '4' },
      'pg-url': { type: 'string' },
      // The runners' AGENT_KILL_SWITCH_POLL_MS; their default when absent.
      'poll-ms': { type: 'string' },
    },
  });
  const positive = (name: string, raw: string, max: number) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0 || n > max)
      throw new Error(`--${name} must be a whole number from 1 to ${max} (got ${raw})`);
    return n;
  };
  return {
    runners: positive('runners', values.runners, 100),
    rounds: positive('rounds', values.rounds, 100),
    tenants: positive('tenants', values.tenants, 50),
    pgUrl: values['pg-url'],
    pollMs: values['poll-ms'] === undefined ? undefined : positive('poll-ms', values['poll-ms'], 5000),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** A PostgreSQL cluster of this run only (run as the postgres user when this process is root). */
function startPrivateCluster(): { url: string; stop(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'wtdc-bench-pg-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const asPostgres = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asPostgres
      ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' })
      : execFileSync(cmd, args, { stdio: 'ignore' });
  if (asPostgres) execFileSync('chown', ['postgres', dir]);
  run('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  run('pg_ctl', [
    '-D',
    join(dir, 'data'),
    '-l',
    join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -c max_connections=300 -c listen_addresses=127.0.0.1 -k ${dir}`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      try {
        run('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The slow server: holds every request until told to answer; notes when a held one is aborted. */
function startSlowServer() {
  const held = new Map<string, { res: ServerResponse; at: number }>();
  const aborted = new Map<string, number>();
  let answer = false;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const key = String(req.headers['idempotency-key'] ?? req.url);
    if (answer) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('done');
      return;
    }
    held.set(key, { res, at: performance.now() });
    res.once('close', () => {
      if (!res.writableEnded) aborted.set(key, performance.now());
      held.delete(key);
    });
  });
  return {
    held,
    aborted,
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
      ),
    answerAll() {
      answer = true;
      for (const { res } of held.values()) res.writeHead(200).end('done');
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main() {
  const options = readOptions();
  const children: ChildProcess[] = [];
  // Stopped on Ctrl-C too: the workers and the private cluster are this run's alone.
  let stopping = false;
  const onSignal = () => {
    if (stopping) return; // a second signal (e.g. from timeout's process group) must not cut the cleanup
    stopping = true;
    for (const child of children) child.kill('SIGTERM');
    cluster?.stop();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  if (!options.pgUrl) progress('starting a private PostgreSQL cluster…\n');
  const cluster = options.pgUrl ? undefined : startPrivateCluster();
  process.env.WIDGETDC_TEST_PG_URL = options.pgUrl ?? cluster!.url;
  // Imported once the database URL is set: the test database reads it when loaded.
  const { startTestPlatform } = await import('../gateway/test/support/platform.ts');
  const { workerIdentityEnv } = await import('../events/test/support.ts');
  const prefix = `wtdc-bench-kill:${randomBytes(4).toString('hex')}:`;
  const slow = startSlowServer();
  const slowPort = await slow.listen();
  progress('starting the platform (native PostgreSQL)…\n');
  const platform = await startTestPlatform({
    kind: 'postgres',
    poolMax: 6,
    operatorTenantIds: [devTenantId('ops')],
  });
  const identity = await workerIdentityEnv(platform.issuer);
  const watcher = new pg.Client({ connectionString: platform.db.migrationUrl });
  await watcher.connect();
  try {
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      DATABASE_URL: platform.db.appUrl,
      REDIS_URL,
      EVENTS_STREAM_PREFIX: prefix,
      AGENT_HTTP_ALLOWED_HOSTS: `127.0.0.1:${slowPort}`,
      AGENT_STEP_TIMEOUT_MS: '600000',
      ...(options.pollMs ? { AGENT_KILL_SWITCH_POLL_MS: String(options.pollMs) } : {}),
      // The worker says it is ready at info level (its only info line besides progress).
      LOG_LEVEL: 'info',
      ...identity.env,
    };
    const startWorker = (group: string, relay: boolean) =>
      new Promise<void>((resolve, reject) => {
        const args = [
          'scripts/worker.ts',
          '--group',
          group,
          '--concurrency',
          '1',
          ...(relay ? [] : ['--no-relay']),
        ];
        const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), args, {
          cwd: ROOT,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let seen = '';
        // The logger writes to stderr: read both streams for the ready line, then pass on only errors.
        const read = (chunk: Buffer) => {
          const text = chunk.toString();
          if (seen.includes(`group ${group} on`)) {
            for (const line of text.split('\n')) if (/error/i.test(line)) progress(`${line}\n`);
            return;
          }
          seen += text;
          if (seen.includes(`group ${group} on`)) resolve();
        };
        child.stdout!.on('data', read);
        child.stderr!.on('data', read);
        child.once('exit', (code) =>
          reject(new Error(`worker ${group} exited (${code}) before it was ready`)),
        );
        setTimeout(() => reject(new Error(`worker ${group} was not ready within 120 s`)), 120_000).unref();
      });
    progress(`starting ${options.runners} runner processes and the agent-kill-switch worker`);
    await startWorker('agent-kill-switch', true);
    for (let i = 0; i < options.runners; i += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, options.runners - i) }, () => startWorker('agent-runner', false)),
      );
      progress('.');
    }
    progress('\n');

    const tenants = Array.from({ length: options.tenants }, (_, i) => `bench-${i + 1}`);
    const operator = await platform.issuer.token('ops', 'olga', ['Admin']);
    const taskIds: string[] = [];
    for (let i = 0; i < options.runners; i++) {
      const tenant = tenants[i % tenants.length]!;
      const token = await platform.issuer.token(tenant, 'carl', ['Contributor']);
      const res = await platform.post(
        {
          query: 'mutation ($s: [TaskStepInput!]) { createTask(input: { goal: "Slow", steps: $s }) { id } }',
          variables: { s: [{ tool: 'http.get', input: { url: `http://127.0.0.1:${slowPort}/slow/${i}` } }] },
        },
        token,
      );
      if (res.body.errors) throw new Error(`createTask failed: ${JSON.stringify(res.body.errors)}`);
      taskIds.push((res.body.data as { createTask: { id: string } }).createTask.id);
    }
    // A resumed task's move to RUNNING stays uncommitted while its step runs (one transaction), so a
    // pause counts when its PAUSED is committed with a time after the engagement was sent.
    const statuses = async (since = 0) =>
      new Map(
        (
          await watcher.query<{ id: string; status: string }>(
            `select id, status from agent.tasks where id = any($1)
              and (status <> 'PAUSED' or updated_at >= to_timestamp($2::double precision / 1000))`,
            [taskIds, since],
          )
        ).rows.map((r) => [r.id, r.status]),
      );
    const untilHeld = async (what: string) => {
      const deadline = Date.now() + 120_000;
      while (slow.held.size < options.runners) {
        if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} (${slow.held.size} held)`);
        await sleep(20);
      }
    };
    await untilHeld(`${options.runners} calls in flight`);

    const paused: number[] = [];
    const abortedAfter: number[] = [];
    const roundTrips: number[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      slow.aborted.clear();
      const sentEpoch = Date.now();
      const sent = performance.now();
      const engaged = await platform.post(
        { query: 'mutation { engagePlatformKillSwitch(reason: "bench") { effective } }' },
        operator,
      );
      const committed = performance.now();
      if (engaged.body.errors) throw new Error(`engage failed: ${JSON.stringify(engaged.body.errors)}`);
      roundTrips.push(committed - sent);
      const seen = new Map<string, number>();
      const deadline = Date.now() + 30_000;
      while (seen.size < taskIds.length && Date.now() < deadline) {
        const now = performance.now();
        for (const [id, status] of await statuses(sentEpoch))
          if (status === 'PAUSED' && !seen.has(id)) seen.set(id, now);
        await sleep(POLL_MS);
      }
      if (seen.size < taskIds.length)
        throw new Error(`round ${round}: only ${seen.size} of ${taskIds.length} tasks paused`);
      const round_ = [...seen.values()].map((t) => t - committed);
      paused.push(...round_);
      abortedAfter.push(...[...slow.aborted.values()].map((t) => t - committed));
      progress(
        `round ${round}/${options.rounds}: ${seen.size} paused, slowest ${Math.max(...round_).toFixed(1)} ms, ${slow.aborted.size} calls aborted\n`,
      );
      const released = await platform.post(
        { query: 'mutation { releasePlatformKillSwitch { effective } }' },
        operator,
      );
      if (released.body.errors) throw new Error(`release failed: ${JSON.stringify(released.body.errors)}`);
      if (round < options.rounds) await untilHeld('the tasks to resume mid-step');
    }
    // Let the tasks finish: the slow server answers, every task completes.
    slow.answerAll();
    const deadline = Date.now() + 60_000;
    while ([...(await statuses()).values()].some((s) => s !== 'COMPLETED')) {
      if (Date.now() > deadline) throw new Error('the tasks did not complete after the last release');
      await sleep(50);
    }

    const sorted = [...paused].sort((a, b) => a - b);
    const abortedSorted = [...abortedAfter].sort((a, b) => a - b);
    const p99 = percentile(sorted, 99);
    out();
    out(
      `kill switch: ${options.runners} runner processes (concurrency 1) over ${options.tenants} tenants, ${options.rounds} rounds, poll ${options.pollMs ?? 'default'} ms`,
    );
    out(
      `  engage mutation round trip: p50 ${percentile(
        [...roundTrips].sort((a, b) => a - b),
        50,
      ).toFixed(1)} ms`,
    );
    out(
      `  commit → task PAUSED (${sorted.length} samples): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms (target p99 ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'met' : 'MISSED'})`,
    );
    out(
      `  commit → in-flight call aborted (${abortedSorted.length} samples): p50 ${percentile(abortedSorted, 50).toFixed(1)} ms, p99 ${percentile(abortedSorted, 99).toFixed(1)} ms, max ${abortedSorted.at(-1)?.toFixed(1) ?? 'n/a'} ms`,
    );
    out(`  every task completed after the last release: ${taskIds.length}`);
    out(
      `  load average at the end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(', ')} on ${cpus().length} cores`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(
      children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
    );
    await watcher.end();
    const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
    await transport.destroy([
      'task.step_ready',
      'killswitch.changed',
      'task.status_changed',
      'task.step_completed',
      'approval.needed',
    ]);
    await transport.close();
    await identity.close();
    await platform.close();
    await slow.close();
    cluster?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `\nbench:killswitch failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
