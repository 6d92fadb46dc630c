// Gateway overhead benchmark: the same data fetched through the federated gateway and by a client
// performing the gateway's two-hop query plan itself. Run: node bench/gateway.ts [--db pglite|postgres]
// [--connections 16] [--duration 10] [--tasks 50]
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import type { RunningSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { NATIVE_ADMIN_URL } from '#testing/test-database.ts';
import { startTestPlatform } from '../gateway/test/support/platform.ts';
import {
  direct,
  type LoadResult,
  post,
  type ScenarioName,
  type Target,
  type TaskView,
  viaGateway,
} from './load.ts';
import { report } from './report.ts';

const TENANT = 'bench';
const USER = 'bench';
const WARMUP_MS = 2_000;

/** The load worker running now, so Ctrl-C can stop the client before the servers. */
let activeWorker: Worker | undefined;
let interrupted = false;

const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);

/** Reads the command line; bad values stop the bench before anything starts. */
function readOptions() {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      connections: { type: 'string', default: '16' },
      duration: { type: 'string', default: '10' },
      tasks: { type: 'string', default: '50' },
    },
  });
  const positive = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number (got ${raw})`);
    return n;
  };
  if (values.db !== undefined && values.db !== 'pglite' && values.db !== 'postgres') {
    throw new Error(`--db must be pglite or postgres (got ${values.db})`);
  }
  return {
    db: values.db as 'pglite' | 'postgres' | undefined,
    connections: Math.round(positive('connections', values.connections)),
    durationMs: positive('duration', values.duration) * 1000,
    tasks: Math.round(positive('tasks', values.tasks)),
  };
}

/** Whether the native PostgreSQL server answers; a short timeout keeps the fallback quick. */
async function nativePostgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: NATIVE_ADMIN_URL, connectionTimeoutMillis: 1_500 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates the tasks through the gateway's API and their approvals with SQL (no API creates those). */
async function seed(target: Target, governance: RunningSubgraph, count: number): Promise<void> {
  // The first authenticated request registers the tenant (autoProvisionTenants), which the
  // foreign keys of the SQL inserts below need.
  await post(target.gatewayUrl, target.token, 'query { tasks(first: 1) { edges { node { id } } } }');
  const tenantId = devTenantId(TENANT);
  const requestedBy = devUserId(TENANT, USER);
  for (let i = 1; i <= count; i++) {
    const { createTask } = await post<{ createTask: { id: string } }>(
      target.gatewayUrl,
      target.token,
      'mutation ($title: String!) { createTask(input: { title: $title }) { id } }',
      { title: `bench task ${i}` },
    );
    await withTenant(governance.orm, tenantId, async (em) => {
      for (const [offset, risk] of [
        [0, 'HIGH'],
        [1, 'MEDIUM'],
      ] as const) {
        await em.execute(
          `insert into governance.approval_requests (id, tenant_id, task_id, risk_level, requested_by, requested_at)
           values (?, ?, ?, ?, ?, ?)`,
          [randomUUID(), tenantId, createTask.id, risk, requestedBy, new Date(Date.now() + offset)],
        );
      }
    });
    progress(`\rseeding: ${i}/${count} tasks, ${2 * i} approvals`);
  }
  progress('\n');
}

/** Fails unless both scenarios return the same tasks with the same approvals. */
async function verify(target: Target, expectedTasks: number): Promise<void> {
  const canonical = (tasks: TaskView[]) =>
    JSON.stringify(
      tasks
        .map((t) => ({ ...t, approvals: [...t.approvals].sort((a, b) => a.id.localeCompare(b.id)) }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
  const [viaGw, byHand] = await Promise.all([viaGateway(target), direct(target)]);
  if (canonical(viaGw) !== canonical(byHand)) {
    throw new Error(
      `gateway and direct answers differ:\n gateway: ${canonical(viaGw).slice(0, 500)}\n direct:  ${canonical(byHand).slice(0, 500)}`,
    );
  }
  const bad = viaGw.filter((t) => t.approvals.length !== 2);
  if (viaGw.length !== expectedTasks || bad.length > 0) {
    throw new Error(
      `expected ${expectedTasks} tasks with 2 approvals each, got ${viaGw.length} tasks (${bad.length} without 2 approvals)`,
    );
  }
  out(`verified: both return the same ${viaGw.length} tasks and ${2 * viaGw.length} approvals`);
}

/** Runs one scenario in a worker thread, echoing its progress to stderr once a second. */
function measure(
  scenario: ScenarioName,
  target: Target,
  opts: { connections: number; durationMs: number },
): Promise<LoadResult> {
  progress(`${scenario}: warm-up ${WARMUP_MS / 1000} s`);
  const worker = new Worker(new URL('./load-worker.ts', import.meta.url), {
    workerData: {
      target,
      scenario,
      connections: opts.connections,
      warmupMs: WARMUP_MS,
      durationMs: opts.durationMs,
    },
  });
  activeWorker = worker;
  return new Promise<LoadResult>((resolve, reject) => {
    let measuring = false;
    worker.on(
      'message',
      (message: { type: string; completed?: number; phase?: string; result?: LoadResult }) => {
        if (message.type === 'tick') {
          if (message.phase === 'warmup') return progress('.');
          if (!measuring) progress(`\n${scenario}: measuring ${opts.durationMs / 1000} s:`);
          measuring = true;
          progress(` ${message.completed}`);
        } else if (message.type === 'done' && message.result) {
          progress(` ${message.result.requests} done\n`);
          resolve(message.result);
          // Idle keep-alive sockets would otherwise hold the worker open into the next scenario.
          void worker.terminate();
        }
      },
    );
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`${scenario} load worker exited with code ${code}`));
    });
  });
}

/** Sets everything up, measures both scenarios, prints the table, and tears everything down. */
async function main(): Promise<number> {
  const options = readOptions();
  const logger = createLogger('bench', {
    level: 'warn',
    // After Ctrl-C, requests cut off mid-flight log errors that say nothing about the servers.
    write: (line) => {
      if (!interrupted) process.stderr.write(`${line}\n`);
    },
  });
  // Teardown runs in reverse start order, also on failure and Ctrl-C, so no test database is left behind.
  const cleanups: (() => Promise<unknown>)[] = [];
  let cleaning: Promise<void> | undefined;
  // One teardown shared by the signal handler and the `finally` below, whichever comes first.
  const cleanup = () =>
    (cleaning ??= (async () => {
      while (cleanups.length > 0) await cleanups.pop()!().catch((e: unknown) => logger.warn(`cleanup: ${e}`));
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`\n${signal}: shutting down\n`);
    // Client first, so no request is in flight while the servers stop.
    void Promise.resolve(activeWorker?.terminate())
      .then(cleanup)
      .then(() => process.exit(130));
  };
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const signal of signals) process.on(signal, onSignal);
  try {
    const kind = options.db ?? ((await nativePostgresReachable()) ? 'postgres' : 'pglite');
    out(`database: ${kind === 'postgres' ? `native PostgreSQL (${NATIVE_ADMIN_URL})` : 'embedded PGlite'}`);
    const platform = await startTestPlatform({ kind, poolMax: 10, logger });
    cleanups.push(() => platform.close());
    const { issuer, gateway, subgraphs } = platform;
    const { agent, governance } = subgraphs;
    out(`gateway ${gateway.url}; agent ${agent.url}; governance ${governance.url}`);

    // Long enough to outlive any run: an expiring token would turn the tail into 401s.
    const token = await issuer.token(TENANT, USER, ['Admin'], 3_600);
    const target: Target = {
      gatewayUrl: gateway.url,
      agentUrl: agent.url,
      governanceUrl: governance.url,
      token,
    };
    await seed(target, governance, options.tasks);
    await verify(target, Math.min(20, options.tasks));

    out(
      `load: ${options.connections} connections, ${WARMUP_MS / 1000} s warm-up + ${options.durationMs / 1000} s each, client in a worker thread (fetch keep-alive)`,
    );
    const viaGw = await measure('gateway', target, options);
    const byHand = await measure('direct', target, options);
    report(viaGw, byHand);
    const failed = [viaGw, byHand].find((r) => r.errors > 0);
    if (failed) {
      console.error(`requests failed during the run; first error: ${failed.firstError}`);
      return 1;
    }
    return 0;
  } finally {
    await cleanup();
  }
}

process.exitCode = await main().catch((error: unknown) => {
  if (interrupted) return 130;
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  return 1;
});
