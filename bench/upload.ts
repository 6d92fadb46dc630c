// Memory of a document upload through the gateway: the gateway and the knowledge subgraph run as
// their own processes (their real entry points, as npm start runs them) on the native PostgreSQL
// when reachable (WIDGETDC_TEST_PG_URL, a throwaway database), else PGlite, and their resident set
// size is sampled from /proc while documents are uploaded: streamed to POST /documents (16 MiB and
// --mib), and inline as base64 in ingestDocument's JSON body (16 MiB, the anchor; the gateway's
// JSON limit is 64 MiB). Run: npm run bench:upload [-- --mib 64]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { request } from 'undici';
import { loadOrCreateDevKeys, signDevToken, startDevIssuer } from '#kernel/auth/dev-issuer.ts';
import { createLogger } from '#kernel/logger.ts';
import { createTestDatabase, NATIVE_ADMIN_URL } from '#testing/test-database.ts';
import { ROOT_DIR } from '../gateway/src/compose.ts';
import { Supervisor } from '../scripts/lib/supervisor.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '64' } } });
const MIB = 1024 * 1024;
const size = Number(values.mib) * MIB;
/** The inline anchor's size (and the first streamed one): its base64 fits the JSON limit. */
const SMALL = 16 * MIB;
if (!Number.isInteger(size) || size < SMALL || size > 1024 * MIB) {
  process.stderr.write('--mib must be a whole number from 16 to 1024\n');
  process.exit(2);
}
const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(`${text}\n`);

/** Resident set size of a process, from /proc (bytes). */
async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** Samples the peak RSS of `pids` every 20 ms while `work` runs; returns it with the baselines. */
async function sampled(pids: Record<string, number>, work: () => Promise<void>) {
  const before: Record<string, number> = {};
  const peak: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) before[name] = peak[name] = await rssOf(pid);
  let running = true;
  const sampler = (async () => {
    while (running) {
      for (const [name, pid] of Object.entries(pids)) peak[name] = Math.max(peak[name]!, await rssOf(pid));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const started = performance.now();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  return { before, peak, seconds: (performance.now() - started) / 1000 };
}

/** A text document of `bytes`, streamed in 1 MiB pieces and never held whole by this process. */
function* textPieces(bytes: number, seed: string) {
  const line = Buffer.from(
    `${`${seed} The quick brown fox jumps over the lazy dog. `.repeat(20).slice(0, 999)}\n`,
  );
  const piece = Buffer.concat(Array.from({ length: Math.ceil(MIB / line.length) }, () => line)).subarray(
    0,
    MIB,
  );
  for (let sent = 0; sent < bytes; sent += MIB) yield piece.subarray(0, Math.min(MIB, bytes - sent));
}

const dataDir = await mkdtemp(join(tmpdir(), 'wtdc-bench-upload-'));
const logger = createLogger('bench', { level: 'warn' });
const supervisor = new Supervisor(logger);
const native = await new pg.Client({ connectionString: NATIVE_ADMIN_URL })
  .connect()
  .then((c) => c.end().then(() => true))
  .catch(() => false);
const database = await createTestDatabase(native ? 'postgres' : 'pglite');
progress(`database: ${database.kind}`);
try {
  const keys = await loadOrCreateDevKeys(dataDir);
  const issuer = await startDevIssuer(keys, {
    host: '127.0.0.1',
    port: 0,
    nodeEnv: 'development',
    allowInProduction: false,
  });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    DATABASE_URL: database.appUrl,
    DB_POOL_MAX: '4',
    WIDGETDC_DATA_DIR: dataDir,
    AUTH_JWKS_URL: issuer.jwksUrl,
    AUTH_ISSUER: issuer.issuer,
    TENANT_AUTO_PROVISION: 'true',
    KNOWLEDGE_PORT: '0',
    GATEWAY_PORT: '0',
    KNOWLEDGE_MAX_DOCUMENT_BYTES: String(SMALL),
    KNOWLEDGE_MAX_UPLOAD_BYTES: String(size),
    EMBEDDINGS_PROVIDER: 'hashed',
    // Storing a large document in the embedded database takes longer than a query may.
    SUBGRAPH_TIMEOUT_MS: '300000',
  };
  progress('starting the knowledge subgraph and the gateway …');
  const knowledge = await supervisor.start(
    'knowledge',
    join(ROOT_DIR, 'subgraphs', 'knowledge', 'src', 'index.ts'),
    env,
  );
  env.KNOWLEDGE_URL = knowledge.url;
  const gateway = await supervisor.start('gateway', join(ROOT_DIR, 'gateway', 'src', 'index.ts'), env);
  const pids = { gateway: gateway.child.pid!, knowledge: knowledge.child.pid! };
  const token = await signDevToken(keys, {
    tenant: 'bench',
    user: 'carl',
    roles: ['Contributor'],
    audience: 'api://widgetdc',
    issuer: issuer.issuer,
  });
  const auth = { authorization: `Bearer ${token}` };

  const streamedUpload = (bytes: number, seed: string) => async () => {
    const res = await request(new URL(`/documents?title=${seed}`, gateway.url), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain', 'content-length': String(bytes) },
      body: Readable.from(textPieces(bytes, seed)),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201)
      throw new Error(`streamed upload: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  };
  const runs: { label: string; bytes: number; r: Awaited<ReturnType<typeof sampled>> }[] = [];
  for (const bytes of [SMALL, size]) {
    progress(`streamed: POST /documents, ${bytes / MIB} MiB …`);
    runs.push({
      label: 'streamed POST /documents',
      bytes,
      r: await sampled(pids, streamedUpload(bytes, `s${bytes}`)),
    });
  }
  progress(`inline: ingestDocument with ${SMALL / MIB} MiB as base64 …`);
  const base64 = Buffer.concat([...textPieces(SMALL, 'inlined!')]).toString('base64');
  runs.push({
    label: 'inline ingestDocument (base64 JSON)',
    bytes: SMALL,
    r: await sampled(pids, async () => {
      const res = await request(gateway.url, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          query: 'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id } }',
          variables: { input: { title: 'Inline', contentBase64: base64 } },
        }),
      });
      const answer = (await res.body.json()) as { errors?: unknown };
      if (answer.errors) throw new Error(`inline upload: ${JSON.stringify(answer.errors).slice(0, 300)}`);
    }),
  });

  const mib = (n: number) => (n / MIB).toFixed(1);
  const growth = (r: (typeof runs)[number]['r'], name: string) => r.peak[name]! - r.before[name]!;
  out(
    `\nDocuments through the gateway on ${database.kind} (processes: gateway ${pids.gateway}, knowledge ${pids.knowledge})`,
  );
  out(
    '| way in | MiB | seconds | gateway RSS before → peak (growth) | knowledge RSS before → peak (growth) |',
  );
  out('|---|---|---|---|---|');
  for (const { label, bytes, r } of runs) {
    out(
      `| ${label} | ${bytes / MIB} | ${r.seconds.toFixed(2)} | ` +
        `${mib(r.before.gateway!)} → ${mib(r.peak.gateway!)} (+${mib(growth(r, 'gateway'))}) | ` +
        `${mib(r.before.knowledge!)} → ${mib(r.peak.knowledge!)} (+${mib(growth(r, 'knowledge'))}) |`,
    );
  }
  const perMib = (run: (typeof runs)[number]) => growth(run.r, 'gateway') / run.bytes;
  const [small, large, inline] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
  out(
    `\ngateway RSS growth per MiB uploaded: streamed ${perMib(small).toFixed(3)} (${small.bytes / MIB} MiB), ` +
      `${perMib(large).toFixed(3)} (${large.bytes / MIB} MiB); inline ${perMib(inline).toFixed(3)} ` +
      `(inline/streamed at ${SMALL / MIB} MiB: ${(perMib(inline) / Math.max(perMib(small), 1e-9)).toFixed(1)}x)`,
  );
  await supervisor.stopAll();
  await issuer.close();
} finally {
  await supervisor.stopAll();
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
}
