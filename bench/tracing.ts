// npm run bench:tracing [-- --requests 300 --warmup 50 --tasks 20 --rounds 1]
// What tracing costs a request: the whole platform (npm start's entry point, every service in its own
// process with --import kernel/src/telemetry/register.ts) on one native PostgreSQL database, once with
// OTEL_SDK_DISABLED=true and once traced (instrumentations on, spans written to observability.spans;
// no OTLP endpoint), each alternating in rounds. The query crosses agent and governance through the
// gateway: 20 tasks with their approvals. Prints p50/p95/p99 per mode and the ratios traced/off.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

const ROOT = join(import.meta.dirname, '..');
const out = (line = '') => process.stdout.write(`${line}\n`);
const run = promisify(execFile);
const QUERY = '{ tasks(first: 20) { edges { node { id title status approvals { id status } } } } }';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '50' },
    tasks: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '1' },
  },
});
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Platform {
  url: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  dataDir: string;
}

async function startPlatform(db: TestDatabase, traced: boolean): Promise<Platform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wtdc-bench-tracing-'));
  const ports: Record<string, number> = {};
  for (const key of ['GATEWAY', 'KNOWLEDGE', 'AGENT', 'GOVERNANCE', 'AUDIT', 'DEV_ISSUER'])
    ports[`${key}_PORT`] = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    WIDGETDC_DATA_DIR: dataDir,
    DATABASE_URL: db.appUrl,
    MIGRATION_DATABASE_URL: db.migrationUrl,
    OTEL_SDK_DISABLED: traced ? 'false' : 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    NODE_OPTIONS: '',
  };
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('WidgeTDC is ready')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
  });
  return { url: `http://127.0.0.1:${ports.GATEWAY_PORT}/graphql`, env, child, dataDir };
}

async function stopPlatform(platform: Platform): Promise<void> {
  const exited = new Promise((resolve) => platform.child.once('exit', resolve));
  platform.child.kill('SIGTERM');
  await exited;
  await rm(platform.dataDir, { recursive: true, force: true });
}

async function token(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT, 'scripts', 'token.ts'), '--tenant', 'bench', '--user', 'ada', '--roles', 'Admin'],
    { env },
  );
  return stdout.trim().split('\n').at(-1)!;
}

async function post(url: string, bearer: string, query: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: unknown[] };
  if (!res.ok || body.errors) throw new Error(`request failed (${res.status}): ${JSON.stringify(body)}`);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function measure(platform: Platform, bearer: string, label: string): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await post(platform.url, bearer, QUERY);
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    await post(platform.url, bearer, QUERY);
    times.push(performance.now() - t0);
    if ((i + 1) % 100 === 0) process.stdout.write(`\r  ${label}: ${i + 1}/${REQUESTS}`);
  }
  process.stdout.write('\n');
  return times;
}

const db = await createTestDatabase('postgres');
const samples: Record<'off' | 'traced', number[]> = { off: [], traced: [] };
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of ['off', 'traced'] as const) {
      out(`round ${round}/${ROUNDS}, tracing ${mode}: starting the platform`);
      const platform = await startPlatform(db, mode === 'traced');
      try {
        const bearer = await token(platform.env);
        if (round === 1 && mode === 'off') {
          for (let i = 0; i < TASKS; i++)
            await post(
              platform.url,
              bearer,
              `mutation { createTask(input: { title: "Bench ${i}" }) { id } }`,
            );
        }
        samples[mode].push(...(await measure(platform, bearer, `tracing ${mode}`)));
      } finally {
        await stopPlatform(platform);
      }
    }
  }
} finally {
  await db.close();
}

const stats = (mode: 'off' | 'traced') => {
  const sorted = [...samples[mode]].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    n: sorted.length,
  };
};
const off = stats('off');
const traced = stats('traced');
const ms = (v: number) => `${v.toFixed(2)} ms`;
out(`\nquery: ${QUERY}`);
out(
  `${'mode'.padEnd(10)} ${'n'.padStart(6)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'p99'.padStart(10)}`,
);
for (const [mode, s] of [
  ['off', off],
  ['traced', traced],
] as const)
  out(
    `${mode.padEnd(10)} ${String(s.n).padStart(6)} ${ms(s.p50).padStart(10)} ${ms(s.p95).padStart(10)} ${ms(s.p99).padStart(10)}`,
  );
out(
  `traced/off: p50 ×${(traced.p50 / off.p50).toFixed(3)}, p95 ×${(traced.p95 / off.p95).toFixed(3)}, p99 ×${(traced.p99 / off.p99).toFixed(3)} (target: p95 within ×1.05)`,
);
out(
  'notes: sequential requests, one client; every service in its own process; spans stored, no OTLP export.',
);
