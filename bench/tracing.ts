// npm run bench:tracing [-- --requests 150 --warmup 20 --tasks 20 --documents 12 --rounds 2]
// What observability costs a request: the whole platform (npm start's entry point, every service in its
// own process with --import kernel/src/telemetry/register.ts) on one native PostgreSQL database, once
// with nothing recorded (OTEL_SDK_DISABLED=true, LLM_GENERATIONS=off) and once with everything on
// (instrumentations, spans written to observability.spans, every model call recorded as a generation and
// checked against the budgets; no OTLP export), and between them traced without generations, in rounds. Three operations, interleaved
// request by request: a tasks query crossing agent and governance through the gateway, a hybrid search
// (the query embedded by the offline model: one generation) and an offline ask (embedding + answer: two
// generations) over ADRs of this repository. Prints p50/p95/p99 per operation and mode, and on/off.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs, promisify } from 'node:util';
import { freePort } from '#testing/scale/free-port.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

const ROOT = join(import.meta.dirname, '..');
const out = (line = '') => process.stdout.write(`${line}\n`);
const run = promisify(execFile);
const TASKS_QUERY = '{ tasks(first: 20) { edges { node { id title status approvals { id status } } } } }';
/** Questions about the ingested ADRs (their words, so the offline answerer answers most). */
const QUESTIONS = [
  'How are backups restored into an empty target?',
  'Which roles may read the audit log?',
  'What does the kill switch pause?',
  'How is the tenant isolated in PostgreSQL?',
  'What happens when a worker crashes during ingestion?',
  'How are approvals bound to the exact call?',
  'Which instrumentations does the SDK start?',
  'How does the gateway verify tokens?',
];
const OPERATIONS = {
  tasks: () => ({ query: TASKS_QUERY, variables: {} }),
  search: (i: number) => ({
    query:
      'query ($q: String!) { search(query: $q, first: 5) { chunk { id } score keywordRank vectorRank } }',
    variables: { q: QUESTIONS[i % QUESTIONS.length]! },
  }),
  ask: (i: number) => ({
    query: 'query ($q: String!) { ask(question: $q) { text citations { quote } unanswered } }',
    variables: { q: QUESTIONS[i % QUESTIONS.length]! },
  }),
} as const;
type Operation = keyof typeof OPERATIONS;
const OPERATION_NAMES = Object.keys(OPERATIONS) as Operation[];
/** off: nothing recorded; traced: spans only (LLM_GENERATIONS=off); on: spans and generations. */
const MODES = ['off', 'traced', 'on'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '20' },
    tasks: { type: 'string', default: '20' },
    documents: { type: 'string', default: '12' },
    rounds: { type: 'string', default: '2' },
  },
});
const REQUESTS = Number(values.requests);
const WARMUP = Number(values.warmup);
const TASKS = Number(values.tasks);
const ROUNDS = Number(values.rounds);
const DOCUMENTS = Number(values.documents);

interface Platform {
  url: string;
  env: NodeJS.ProcessEnv;
  child: ChildProcess;
  dataDir: string;
}

async function startPlatform(db: TestDatabase, mode: Mode): Promise<Platform> {
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
    OTEL_SDK_DISABLED: mode === 'off' ? 'true' : 'false',
    LLM_GENERATIONS: mode === 'on' ? 'on' : 'off',
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

async function post(
  url: string,
  bearer: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (!res.ok || body.errors) throw new Error(`request failed (${res.status}): ${JSON.stringify(body)}`);
  return body.data ?? {};
}

/** Tasks and documents (ADRs of this repository), ingested once and waited for until READY. */
async function seed(platform: Platform, bearer: string): Promise<void> {
  for (let i = 0; i < TASKS; i++)
    await post(platform.url, bearer, `mutation { createTask(input: { title: "Bench ${i}" }) { id } }`);
  const folder = join(ROOT, 'docs', 'adr');
  const files = (await readdir(folder)).filter((f) => f.endsWith('.md')).slice(0, DOCUMENTS);
  for (const file of files) {
    await post(
      platform.url,
      bearer,
      'mutation ($i: IngestDocumentInput!) { ingestDocument(input: $i) { id } }',
      { i: { title: file, mimeType: 'text/markdown', text: await readFile(join(folder, file), 'utf8') } },
    );
  }
  const started = performance.now();
  for (;;) {
    const data = await post(platform.url, bearer, '{ documents(first: 100) { edges { node { status } } } }');
    const statuses = (data.documents as { edges: { node: { status: string } }[] }).edges.map(
      (e) => e.node.status,
    );
    const ready = statuses.filter((st) => st === 'READY').length;
    process.stdout.write(`\r  ingesting ${files.length} ADRs: ${ready} READY`);
    if (statuses.some((st) => st === 'FAILED')) throw new Error(`a document failed: ${statuses.join(', ')}`);
    if (ready === files.length) break;
    if (performance.now() - started > 600_000) throw new Error('documents not READY after 10 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  process.stdout.write('\n');
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

/** Sequential requests, the operations taking turns, so each sees the same moments of the machine. */
async function measure(
  platform: Platform,
  bearer: string,
  label: string,
): Promise<Record<Operation, number[]>> {
  const times = Object.fromEntries(OPERATION_NAMES.map((o) => [o, [] as number[]])) as Record<
    Operation,
    number[]
  >;
  for (let i = 0; i < WARMUP + REQUESTS; i++) {
    for (const operation of OPERATION_NAMES) {
      const { query, variables } = OPERATIONS[operation](i);
      const t0 = performance.now();
      await post(platform.url, bearer, query, variables);
      if (i >= WARMUP) times[operation].push(performance.now() - t0);
    }
    if ((i + 1) % 25 === 0) process.stdout.write(`\r  ${label}: ${i + 1}/${WARMUP + REQUESTS}`);
  }
  process.stdout.write('\n');
  return times;
}

const db = await createTestDatabase('postgres');
const samples = Object.fromEntries(
  MODES.map((m) => [m, Object.fromEntries(OPERATION_NAMES.map((o) => [o, [] as number[]]))]),
) as Record<Mode, Record<Operation, number[]>>;
const began = performance.now();
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const mode of MODES) {
      out(`round ${round}/${ROUNDS}, recording ${mode}: starting the platform`);
      const platform = await startPlatform(db, mode);
      try {
        const bearer = await token(platform.env);
        if (round === 1 && mode === 'off') await seed(platform, bearer);
        const times = await measure(platform, bearer, `recording ${mode}`);
        for (const operation of OPERATION_NAMES) samples[mode][operation].push(...times[operation]);
      } finally {
        await stopPlatform(platform);
      }
    }
  }
} finally {
  await db.close();
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    n: sorted.length,
  };
};
const ms = (v: number) => `${v.toFixed(1)} ms`;
const ratio = (a: number, b: number) => `×${(a / b).toFixed(3)}`;
out('');
out('| operation | mode | n | p50 | p95 | p99 |');
out('|---|---|---|---|---|---|');
for (const operation of OPERATION_NAMES)
  for (const mode of MODES) {
    const s = stats(samples[mode][operation]);
    out(`| ${operation} | ${mode} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} |`);
  }
out('');
out('| operation | traced/off p50 | traced/off p95 | on/off p50 | on/off p95 | on/off p99 |');
out('|---|---|---|---|---|---|');
for (const operation of OPERATION_NAMES) {
  const off = stats(samples.off[operation]);
  const traced = stats(samples.traced[operation]);
  const on = stats(samples.on[operation]);
  out(
    `| ${operation} | ${ratio(traced.p50, off.p50)} | ${ratio(traced.p95, off.p95)} | ${ratio(on.p50, off.p50)} | ${ratio(on.p95, off.p95)} | ${ratio(on.p99, off.p99)} |`,
  );
}
out('\ntarget: p95 within ×1.05 for search and ask');
out(
  `notes: ${ROUNDS} round(s) of ${REQUESTS} requests per operation and mode after ${WARMUP} warm-up; sequential, one client; ` +
    `off = OTEL_SDK_DISABLED=true + LLM_GENERATIONS=off, traced = spans stored + LLM_GENERATIONS=off, on = traced + generations recorded and budget-checked; ` +
    `offline embedder and answerer; load average at the end ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; ` +
    `${((performance.now() - began) / 1000).toFixed(0)} s in all.`,
);
