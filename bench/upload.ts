// Memory of a document upload through the gateway: the gateway and the knowledge subgraph run as
// their own processes (their real entry points, as npm start runs them) on an embedded database,
// and their resident set size is sampled from /proc while one document is uploaded twice: streamed
// to POST /documents, and inline as base64 in ingestDocument's JSON body (the anchor).
// Run: npm run bench:upload [-- --mib 32]   (inline is capped by the gateway's 64 MiB JSON limit)
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { loadOrCreateDevKeys, signDevToken, startDevIssuer } from '#kernel/auth/dev-issuer.ts';
import { startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { migrate } from '#kernel/db/migrate.ts';
import { createLogger } from '#kernel/logger.ts';
import { ROOT_DIR } from '../gateway/src/compose.ts';
import { Supervisor } from '../scripts/lib/supervisor.ts';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '32' } } });
const MIB = 1024 * 1024;
const size = Number(values.mib) * MIB;
if (!Number.isInteger(size) || size < MIB || size > 44 * MIB) {
  process.stderr.write(
    '--mib must be a whole number from 1 to 44 (base64 of it must fit the 64 MiB JSON limit)\n',
  );
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
  await work();
  const seconds = (performance.now() - started) / 1000;
  running = false;
  await sampler;
  return { before, peak, seconds };
}

/** A text document of `bytes`, streamed in 1 MiB pieces and never held whole by this process. */
function* textPieces(bytes: number, seed: string) {
  const line = Buffer.from(
    `${seed} The quick brown fox jumps over the lazy dog. `.repeat(20).slice(0, 999) + '\n',
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
const database = await startEmbeddedDatabase();
try {
  await migrate({ url: database.url });
  await database.seal();
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
    LOG_LEVEL: 'warn',
    DATABASE_URL: database.url,
    DB_POOL_MAX: '4',
    WIDGETDC_DATA_DIR: dataDir,
    AUTH_JWKS_URL: issuer.jwksUrl,
    AUTH_ISSUER: issuer.issuer,
    TENANT_AUTO_PROVISION: 'true',
    KNOWLEDGE_PORT: '0',
    GATEWAY_PORT: '0',
    KNOWLEDGE_MAX_DOCUMENT_BYTES: String(size),
    KNOWLEDGE_MAX_UPLOAD_BYTES: String(size),
    EMBEDDINGS_PROVIDER: 'hashed',
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

  progress(`streamed: POST /documents, ${size / MIB} MiB …`);
  const streamed = await sampled(pids, async () => {
    const res = await request(new URL('/documents?title=Streamed', gateway.url), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain', 'content-length': String(size) },
      body: Readable.from(textPieces(size, 'streamed')),
    });
    const text = await res.body.text();
    if (res.statusCode !== 201)
      throw new Error(`streamed upload: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
  });

  progress(`inline: ingestDocument with ${size / MIB} MiB as base64 …`);
  const base64 = Buffer.concat([...textPieces(size, 'inlined!')]).toString('base64');
  const inline = await sampled(pids, async () => {
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
  });

  const mib = (n: number) => (n / MIB).toFixed(1);
  const growth = (r: typeof streamed, name: string) => r.peak[name]! - r.before[name]!;
  out(
    `\nOne ${size / MIB} MiB text document through the gateway (processes: gateway ${pids.gateway}, knowledge ${pids.knowledge})`,
  );
  out(
    '| way in | seconds | MiB/s | gateway RSS before → peak (growth) | knowledge RSS before → peak (growth) |',
  );
  out('|---|---|---|---|---|');
  for (const [label, r] of [
    ['streamed POST /documents', streamed],
    ['inline ingestDocument (base64 JSON)', inline],
  ] as const) {
    out(
      `| ${label} | ${r.seconds.toFixed(2)} | ${(size / MIB / r.seconds).toFixed(1)} | ` +
        `${mib(r.before.gateway!)} → ${mib(r.peak.gateway!)} (+${mib(growth(r, 'gateway'))}) | ` +
        `${mib(r.before.knowledge!)} → ${mib(r.peak.knowledge!)} (+${mib(growth(r, 'knowledge'))}) |`,
    );
  }
  const ratio = growth(inline, 'gateway') / Math.max(1, growth(streamed, 'gateway'));
  out(
    `\ngateway RSS growth per MiB uploaded: streamed ${(growth(streamed, 'gateway') / size).toFixed(3)}, ` +
      `inline ${(growth(inline, 'gateway') / size).toFixed(3)} (inline/streamed ${ratio.toFixed(1)}x)`,
  );
  await supervisor.stopAll();
  await issuer.close();
} finally {
  await supervisor.stopAll();
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
}
