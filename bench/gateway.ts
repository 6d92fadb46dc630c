// Gateway benchmark: the same data fetched through our gateway, through Hive Gateway (plain and with
// its JWT plugin) and by a client performing the gateway's two-hop query plan itself; each gateway in
// a process of its own, its CPU per request measured. Run: node bench/gateway.ts [--db pglite|postgres]
// [--connections 16] [--duration 10] [--warmup 3] [--rounds 1] [--tasks 50] [--only ours,hive,...]
// [--profile ours] [--baseline <checkout>]; with several rounds the scenarios take turns, and medians are reported.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import type { RunningSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { NATIVE_ADMIN_URL } from '#testing/test-database.ts';
import { SUPERGRAPH_FILE } from '../gateway/src/compose.ts';
import { startTestPlatform } from '../gateway/test/support/platform.ts';
import { sampleCpu } from './cpu.ts';
import { type GatewayProcess, type GatewayProcessOptions, startGatewayProcess } from './gateway-process.ts';
import { direct, type LoadResult, post, type Target, type TaskView, viaGateway } from './load.ts';
import type { WorkerJob } from './load-worker.ts';
import { report, type ScenarioResult } from './report.ts';
import type { GatewaySpec } from './servers/spec.ts';

const TENANT = 'bench';
const USER = 'bench';

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
      warmup: { type: 'string', default: '3' },
      tasks: { type: 'string', default: '50' },
      only: { type: 'string' },
      profile: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      baseline: { type: 'string' },
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
  const only = values.only?.split(',').map((name) => name.trim());
  for (const name of [...(only ?? []), ...(values.profile ? [values.profile] : [])]) {
    if (!SCENARIO_NAMES.includes(name))
      throw new Error(`unknown scenario ${name}; scenarios: ${SCENARIO_NAMES.join(', ')}`);
  }
  if (values.baseline !== undefined && !existsSync(join(values.baseline, 'bench', 'servers', 'ours.ts'))) {
    throw new Error(
      `--baseline must be a checkout of this repository with bench/servers/ours.ts (got ${values.baseline})`,
    );
  }
  return {
    only,
    baseline: values.baseline && resolve(values.baseline),
    profile: values.profile,
    db: values.db as 'pglite' | 'postgres' | undefined,
    connections: Math.round(positive('connections', values.connections)),
    durationMs: positive('duration', values.duration) * 1000,
    warmupMs: positive('warmup', values.warmup) * 1000,
    rounds: Math.round(positive('rounds', values.rounds)),
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

/** Fails unless both of the bench's own scenarios return the same tasks with the same approvals. */
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

/** A scenario: a gateway process to start (none for the direct path) and the client that loads it. */
interface Scenario {
  name: string;
  gateway?: Omit<GatewayProcessOptions, 'spec' | 'profileDir'>;
  client: 'autocannon' | 'loop';
}

const SCENARIOS: Scenario[] = [
  { name: 'ours', gateway: { entry: 'ours.ts' }, client: 'autocannon' },
  { name: 'hive', gateway: { entry: 'hive.ts' }, client: 'autocannon' },
  { name: 'hive-jwt', gateway: { entry: 'hive.ts', args: ['jwt'] }, client: 'autocannon' },
  { name: 'direct (2 hops)', client: 'loop' },
  { name: 'ours (loop)', gateway: { entry: 'ours.ts' }, client: 'loop' },
];
/** With --baseline: our gateway as another checkout has it (e.g. main before a change), in the same run. */
const BASELINE = 'ours (baseline)';
const SCENARIO_NAMES = [...SCENARIOS.map((s) => s.name), BASELINE];

/** Runs one load job in a worker thread, echoing progress to stderr; `onMeasure` fires as measuring starts. */
function load(name: string, job: WorkerJob, onMeasure: () => void): Promise<LoadResult> {
  progress(`${name}: warm-up ${job.warmupMs / 1000} s`);
  const worker = new Worker(new URL('./load-worker.ts', import.meta.url), { workerData: job });
  activeWorker = worker;
  return new Promise<LoadResult>((resolve, reject) => {
    let measuring = false;
    worker.on(
      'message',
      (message: { type: string; completed?: number; phase?: string; result?: LoadResult }) => {
        if (message.type === 'measure') {
          onMeasure();
          measuring = true;
          progress(`\n${name}: measuring ${job.durationMs / 1000} s:`);
        } else if (message.type === 'tick') {
          progress(measuring ? ` ${message.completed}` : '.');
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
      if (code !== 0) reject(new Error(`${name} load worker exited with code ${code}`));
    });
  });
}

/** One round of one scenario: load figures and the gateway process's CPU milliseconds over it. */
interface RoundResult extends LoadResult {
  cpuMs?: number;
}

/** Loads the scenario (its gateway process already running) and reads that process's CPU over the measured phase. */
async function measure(
  scenario: Scenario,
  gateway: GatewayProcess | undefined,
  base: Target,
  opts: { connections: number; warmupMs: number; durationMs: number; profiled: boolean },
): Promise<RoundResult> {
  const target = gateway ? { ...base, gatewayUrl: gateway.url } : base;
  const common = { connections: opts.connections, warmupMs: opts.warmupMs, durationMs: opts.durationMs };
  const job: WorkerJob =
    scenario.client === 'autocannon'
      ? { client: 'autocannon', url: target.gatewayUrl, token: target.token, ...common }
      : { client: 'loop', target, scenario: gateway ? 'gateway' : 'direct', ...common };
  const ofGateway = (pid: number) => (gateway && pid === gateway.pid ? 'gateway' : undefined);
  let before = sampleCpu(ofGateway);
  let profiling: Promise<void> | undefined;
  const result = await load(scenario.name, job, () => {
    before = sampleCpu(ofGateway);
    if (opts.profiled) profiling = gateway?.profile('start');
  });
  const after = sampleCpu(ofGateway);
  if (profiling) await profiling.then(() => gateway?.profile('stop'));
  const cpuMs = gateway ? (after.get('gateway') ?? 0) - (before.get('gateway') ?? 0) : undefined;
  return { ...result, ...(cpuMs === undefined ? {} : { cpuMs }) };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A scenario over all rounds: medians of req/s and percentiles, CPU as total CPU over total requests. */
function combine(scenario: Scenario, rounds: RoundResult[]): ScenarioResult {
  const requests = rounds.reduce((n, r) => n + r.requests, 0);
  const cpu = rounds.every((r) => r.cpuMs !== undefined)
    ? rounds.reduce((n, r) => n + (r.cpuMs ?? 0), 0)
    : undefined;
  return {
    name: scenario.name,
    client: scenario.client,
    requests,
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    firstError: rounds.find((r) => r.firstError)?.firstError,
    seconds: rounds.reduce((n, r) => n + r.seconds, 0),
    rps: median(rounds.map((r) => r.rps)),
    p50: median(rounds.map((r) => r.p50)),
    p95: median(rounds.map((r) => r.p95)),
    p99: median(rounds.map((r) => r.p99)),
    max: Math.max(...rounds.map((r) => r.max)),
    histogram: rounds[0]?.histogram ?? '',
    ...(cpu !== undefined && requests > 0 ? { cpuMsPerRequest: cpu / requests } : {}),
  };
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
      `load: ${options.connections} connections, ${options.warmupMs / 1000} s warm-up + ${options.durationMs / 1000} s each, client in a worker thread (autocannon, or the bench loop on fetch keep-alive), each gateway in its own process`,
    );
    const spec: GatewaySpec = {
      supergraphFile: SUPERGRAPH_FILE,
      subgraphUrls: Object.fromEntries(Object.values(subgraphs).map((s) => [s.name, s.url])),
      auth: issuer.auth,
      tokenIssuer: issuer.issuer.issuer.replaceAll('{tid}', devTenantId(TENANT)),
    };
    const profileDir = options.profile ? await mkdtemp(join(tmpdir(), 'wtdc-cpu-prof-')) : undefined;
    const all: Scenario[] = options.baseline
      ? [
          SCENARIOS[0]!,
          { name: BASELINE, gateway: { entry: 'ours.ts', root: options.baseline }, client: 'autocannon' },
          ...SCENARIOS.slice(1),
        ]
      : SCENARIOS;
    const chosen = all.filter((s) => !options.only || options.only.includes(s.name));
    // Every gateway runs for the whole bench (idle between its turns), so rounds can interleave them.
    const gateways = new Map<string, GatewayProcess>();
    const keyOf = (g: NonNullable<Scenario['gateway']>) =>
      [g.root ?? '.', g.entry, ...(g.args ?? [])].join(' ');
    for (const scenario of chosen) {
      if (!scenario.gateway || gateways.has(keyOf(scenario.gateway))) continue;
      const profiled = chosen.some(
        (s) => s.name === options.profile && s.gateway && keyOf(s.gateway) === keyOf(scenario.gateway!),
      );
      // Profiles cover the measured phases of --profile's scenario only, not start-up or warm-up.
      progress(`starting ${keyOf(scenario.gateway)}\n`);
      const started = await startGatewayProcess({
        ...scenario.gateway,
        spec,
        ...(profiled && profileDir ? { profileDir } : {}),
      });
      gateways.set(keyOf(scenario.gateway), started);
      cleanups.push(() => started.stop());
    }
    const rounds = new Map<string, RoundResult[]>(chosen.map((s) => [s.name, []]));
    for (let round = 1; round <= options.rounds; round++) {
      if (options.rounds > 1) progress(`round ${round}/${options.rounds}\n`);
      for (const scenario of chosen) {
        const gateway = scenario.gateway && gateways.get(keyOf(scenario.gateway));
        const profiled = scenario.name === options.profile;
        const last = await measure(scenario, gateway, target, { ...options, profiled });
        rounds.get(scenario.name)!.push(last);
        progress(
          `${scenario.name}: ${last.rps.toFixed(1)} req/s, p50 ${last.p50.toFixed(2)} ms` +
            (last.cpuMs === undefined || last.requests === 0
              ? '\n'
              : `, ${(last.cpuMs / last.requests).toFixed(2)} CPU ms/req\n`),
        );
      }
    }
    const results = chosen.map((s) => combine(s, rounds.get(s.name)!));
    report(results);
    if (profileDir)
      out(
        `CPU profile of ${options.profile}: ${profileDir} (summarise: node bench/profile-summary.ts ${profileDir})`,
      );
    const failed = results.find((r) => r.errors > 0);
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
