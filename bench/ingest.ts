// npm run bench:ingest — the ingestion pipeline on native PostgreSQL (a fresh throwaway database
// per run; WIDGETDC_BENCH_PG_URL, a superuser) and Redis (REDIS_URL): real `npm run worker`
// processes of knowledge-ingest with the offline embedder (USE unless EMBEDDINGS_PROVIDER says
// otherwise) ingest
//   1. the HTML of Debian's debian-handbook package (installed with apt when missing and root),
//      once with 1 worker process and once with 5 (or --workers), and
//   2. a generated 1,000-page PDF (target: under 60 s), and a ~20 MB PDF (target: worker peak RSS
//      under 512 MB; text on --big-pages pages plus an uncompressed image on each).
// Prints progress, then per run documents/s, pages/s, chunks/s, the time per stage (summed over
// the documents from the workers' "document indexed" lines), each worker's peak RSS (VmHWM), and the
// 5-vs-1 ratio. Pages: PDF pages; for HTML, page equivalents of 3,000 characters of extracted text.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Identity } from '#kernel/auth/identity.ts';

const ROOT = join(import.meta.dirname, '..');
const PG_URL = process.env.WIDGETDC_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.WIDGETDC_TEST_PG_URL = PG_URL;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const HANDBOOK = '/usr/share/doc/debian-handbook/html/en-US';
/** Characters of extracted text counted as one page of an HTML document. */
const PAGE_CHARS = 3000;
const TARGET_PDF_SECONDS = 60;
const TARGET_RSS_MB = 512;

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,5' },
    concurrency: { type: 'string', default: '1' },
    corpus: { type: 'string', default: HANDBOOK },
    'pdf-pages': { type: 'string', default: '1000' },
    'big-mb': { type: 'string', default: '20' },
    'big-pages': { type: 'string', default: '400' },
    only: { type: 'string', default: 'handbook,pdf,big-pdf' },
  },
});
const workerCounts = values.workers.split(',').map(Number);
const only = new Set(values.only.split(','));

const { createTestDatabase } = await import('#testing/test-database.ts');
const { startTestIssuer } = await import('#testing/test-identity.ts');
const { workerIdentityEnv } = await import('../events/test/support.ts');
const { RedisStreamTransport } = await import('#events/transport/redis-transport.ts');
const { createOrm } = await import('#kernel/db/orm.ts');
const { withTenant } = await import('#kernel/db/tenant-context.ts');
const { devTenantId, devUserId } = await import('#kernel/auth/dev-ids.ts');
const { loadKnowledgeConfig } = await import('../subgraphs/knowledge/src/config.ts');
const { DocumentSchema } = await import('../subgraphs/knowledge/src/domain/document.entity.ts');
const { submitDocument } = await import('../subgraphs/knowledge/src/domain/ingest.service.ts');
const { INGEST_GROUP } = await import('../subgraphs/knowledge/src/consumers/ingest.ts');
const { parseDocument } = await import('../subgraphs/knowledge/src/ingest/parse.ts');
const { chunkBlocks } = await import('../subgraphs/knowledge/src/ingest/chunker.ts');
const { MediaType } = await import('../subgraphs/knowledge/src/ingest/media-types.ts');
const { buildPdf } = await import('../subgraphs/knowledge/test/fixtures/pdf.ts');
const { pdfPages } = await import('../subgraphs/knowledge/test/fixtures/crash-corpus.ts');

const config = loadKnowledgeConfig();
const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A document to ingest, with what the pure functions make of it. */
interface BenchDocument {
  title: string;
  sourceUri: string;
  mimeType: string;
  bytes: Buffer;
  pages: number;
  chunks: number;
}

/** What one run measured. */
interface RunResult {
  name: string;
  workers: number;
  documents: number;
  pages: number;
  chunks: number;
  seconds: number;
  /** Milliseconds summed over documents, by stage. */
  stages: Record<string, number>;
  /** Peak RSS (VmHWM) of each worker process, MiB. */
  rssMb: number[];
  /** CPU seconds (user + system) the worker processes used, together. */
  cpuSeconds: number;
  /** The machine's 1-minute load average at the end (it is shared). */
  load: number;
  problems: string[];
}

async function expected(
  bytes: Buffer,
  mediaType: string,
): Promise<{ chunks: number; chars: number; pages: number | null }> {
  const parsed = await parseDocument(bytes, mediaType as never, {
    maxPdfPages: config.maxPdfPages,
    maxDocxUncompressedBytes: config.maxDocxUncompressedBytes,
    maxDocxEntries: config.maxDocxEntries,
  });
  const chunks = chunkBlocks(parsed.blocks, {
    maxTokens: config.chunkTokens,
    overlapTokens: config.chunkOverlapTokens,
  });
  return {
    chunks: chunks.length,
    chars: parsed.blocks.reduce((n, b) => n + b.text.length, 0),
    pages: parsed.pageCount,
  };
}

/** The handbook's HTML files, installing the package first when it is missing and we may. */
async function handbook(dir: string): Promise<BenchDocument[]> {
  if (!existsSync(dir) && dir === HANDBOOK) {
    if (process.getuid?.() !== 0) {
      throw new Error(`${dir} is missing: install it with sudo apt-get install debian-handbook`);
    }
    progress('installing debian-handbook with apt-get…');
    const apt = (args: string[]) =>
      execFileSync('apt-get', args, {
        stdio: 'inherit',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    try {
      apt(['install', '-y', '-q', '--no-install-recommends', 'debian-handbook']);
    } catch {
      apt(['update', '-q']);
      apt(['install', '-y', '-q', '--no-install-recommends', 'debian-handbook']);
    }
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.html'))
    .sort();
  if (files.length === 0) throw new Error(`no .html files in ${dir}`);
  const docs: BenchDocument[] = [];
  for (const file of files) {
    const bytes = readFileSync(join(dir, file));
    const e = await expected(bytes, MediaType.Html).catch(() => ({ chunks: 0, chars: 0, pages: null }));
    docs.push({
      title: file,
      sourceUri: pathToFileURL(join(dir, file)).href,
      mimeType: MediaType.Html,
      bytes,
      pages: e.chars / PAGE_CHARS,
      chunks: e.chunks,
    });
  }
  return docs;
}

/** The text of the repository's Markdown, for generated PDFs. */
function prose(): string {
  const docs = join(ROOT, 'docs', 'adr');
  return [join(ROOT, 'README.md'), ...readdirSync(docs).map((f) => join(docs, f))]
    .map((f) => readFileSync(f, 'utf8').replace(/^#+ /gm, ''))
    .join('\n\n');
}

/** A PDF of `pageCount` pages of prose (45 lines of 80 characters), optionally with an image a page. */
async function generatedPdf(title: string, pageCount: number, imageSide = 0): Promise<BenchDocument> {
  const source = pdfPages(prose());
  const pages = Array.from({ length: pageCount }, (_, i) => source[i % source.length]!);
  pages[0] = [`${title}, generated for bench:ingest.`, '', ...pages[0]!];
  const bytes = buildPdf(pages, undefined, { imageSide });
  const e = await expected(bytes, MediaType.Pdf);
  return {
    title,
    sourceUri: `bench:${title}`,
    mimeType: MediaType.Pdf,
    bytes,
    pages: e.pages ?? 0,
    chunks: e.chunks,
  };
}

/** CPU seconds (utime + stime) a live process has used. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size of a live process, MiB (VmHWM). */
function peakRssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** What an interrupted run must still undo (worker processes, its database). */
const cleanups = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping the workers and dropping the database…`);
    void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(130));
  });
}

const issuer = await startTestIssuer();
const identity = await workerIdentityEnv(issuer);

/** Ingests `docs` with `workers` worker processes on a fresh database and measures it. */
async function run(name: string, docs: BenchDocument[], workers: number): Promise<RunResult> {
  const db = await createTestDatabase('postgres');
  const prefix = `wtdc-bench-ingest:${randomBytes(4).toString('hex')}:`;
  const children: ChildProcess[] = [];
  const stages: Record<string, number> = {};
  const problems: string[] = [];
  let orm: MikroORM | undefined;
  const cleanup = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await orm?.close();
    const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
    await transport.destroy(['document.uploaded', 'document.ingested', 'document.failed']).catch(() => {});
    await transport.close();
    await db.close();
  };
  cleanups.add(cleanup);
  try {
    const tenantId = devTenantId('bench');
    await db.asSuperuser('insert into platform.tenants (id, slug, display_name) values ($1, $2, $3)', [
      tenantId,
      'bench',
      'Bench',
    ]);
    const user: Identity = {
      tenantId,
      subjectId: devUserId('bench', 'alice'),
      kind: 'user',
      displayName: 'alice@bench',
      roles: ['Contributor'],
      scopes: ['access_as_user'],
    };
    let ready = 0;
    for (let i = 0; i < workers; i++) {
      const child = spawn(
        join(ROOT, 'node_modules', '.bin', 'node'),
        ['scripts/worker.ts', '--group', INGEST_GROUP, '--concurrency', values.concurrency],
        {
          cwd: ROOT,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: {
            ...process.env,
            NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? '',
            DATABASE_URL: db.appUrl,
            REDIS_URL,
            EVENTS_STREAM_PREFIX: prefix,
            EVENTS_RELAY_POLL_MS: '50',
            LOG_FORMAT: 'json',
            LOG_LEVEL: 'info',
            ...identity.env,
          },
        },
      );
      children.push(child);
      createInterface({ input: child.stderr! }).on('line', (line) => {
        if (!line.startsWith('{')) return progress(`  worker ${child.pid}: ${line}`);
        const entry = JSON.parse(line) as Record<string, unknown> & { message: string; level: string };
        if (entry.message === 'document indexed') {
          for (const [key, value] of Object.entries(entry)) {
            if (key.endsWith('Ms') && typeof value === 'number')
              stages[key.slice(0, -2)] = (stages[key.slice(0, -2)] ?? 0) + value;
          }
        } else if (entry.message.startsWith(`group ${INGEST_GROUP} on`)) ready++;
        else if (entry.level === 'error' || entry.level === 'warn')
          progress(`  worker ${child.pid}: ${entry.message} ${JSON.stringify(entry.error ?? '')}`);
      });
      child.once('exit', (code, signal) => {
        if (code !== 0 && signal !== 'SIGTERM')
          problems.push(`worker ${child.pid} exited (${code ?? signal})`);
      });
    }
    progress(`${name}: starting ${workers} worker process(es)…`);
    while (ready < workers) {
      if (problems.length > 0) throw new Error(problems.join('; '));
      await sleep(50);
    }
    orm = await createOrm({ url: db.appUrl, entities: [DocumentSchema], poolMax: 2 });
    // Start-up (loading the model) is not part of the measured phase.
    const cpuAtStart = children.reduce((n, c) => n + cpuSeconds(c.pid), 0);
    const started = performance.now();
    for (const doc of docs) {
      await withTenant(orm, tenantId, (em) =>
        submitDocument(
          em,
          user,
          {
            title: doc.title,
            mimeType: doc.mimeType,
            contentBase64: doc.bytes.toString('base64'),
            sourceUri: doc.sourceUri,
          },
          config.maxDocumentBytes,
        ),
      );
    }
    progress(
      `${name}: ${docs.length} document(s) submitted in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const expectedChunks = docs.reduce((n, d) => n + d.chunks, 0);
    let last = 0;
    for (;;) {
      const [row] = await db.asSuperuser<{ done: string; failed: string; chunks: string }>(
        `select count(*) filter (where status in ('READY', 'FAILED')) as done,
                count(*) filter (where status = 'FAILED') as failed,
                coalesce(sum(chunk_count), 0) as chunks from knowledge.documents`,
      );
      const done = Number(row!.done);
      const seconds = (performance.now() - started) / 1000;
      if (done === docs.length) {
        if (Number(row!.failed) > 0) problems.push(`${row!.failed} document(s) FAILED`);
        if (Number(row!.chunks) !== expectedChunks)
          problems.push(`${row!.chunks} chunks stored, ${expectedChunks} expected`);
        break;
      }
      if (performance.now() - last > 2000) {
        last = performance.now();
        progress(
          `  ${name}: ${done}/${docs.length} documents, ${row!.chunks}/${expectedChunks} chunks, ${seconds.toFixed(1)} s`,
        );
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
      await sleep(100);
    }
    const seconds = (performance.now() - started) / 1000;
    const rssMb = children.map((c) => peakRssMb(c.pid));
    const cpu = children.reduce((n, c) => n + cpuSeconds(c.pid), 0) - cpuAtStart;
    return {
      name,
      workers,
      documents: docs.length,
      pages: docs.reduce((n, d) => n + d.pages, 0),
      chunks: expectedChunks,
      seconds,
      stages,
      rssMb,
      cpuSeconds: cpu,
      load: loadavg()[0]!,
      problems,
    };
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

const results: RunResult[] = [];
/** Runs that could not be measured, with why. */
const failures: string[] = [];
const cells = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(16) : v.padStart(8))).join(' ');
const HEADER = cells([
  'run',
  'workers',
  'docs',
  'pages',
  'chunks',
  'seconds',
  'docs/s',
  'pages/s',
  'chunks/s',
  'parse s',
  'chunk s',
  'embed s',
  'lock s',
  'write s',
  'CPU s',
  'load',
]).concat('  peak RSS MiB');

/** One run's row of the summary table. */
function row(r: RunResult): string {
  const s = (stage: string) => ((r.stages[stage] ?? 0) / 1000).toFixed(1);
  return cells([
    r.name,
    String(r.workers),
    String(r.documents),
    r.pages.toFixed(0),
    String(r.chunks),
    r.seconds.toFixed(1),
    (r.documents / r.seconds).toFixed(2),
    (r.pages / r.seconds).toFixed(1),
    (r.chunks / r.seconds).toFixed(1),
    (((r.stages.read ?? 0) + (r.stages.parse ?? 0)) / 1000).toFixed(1),
    s('chunk'),
    s('embed'),
    s('lock'),
    s('write'),
    r.cpuSeconds.toFixed(1),
    r.load.toFixed(1),
  ]).concat(`  ${r.rssMb.map((m) => m.toFixed(0)).join(', ')}`);
}

/** Runs and records one measurement, printing its row at once (a long bench may be stopped later). */
async function measure(name: string, docs: BenchDocument[], workers: number): Promise<void> {
  try {
    const result = await run(name, docs, workers);
    results.push(result);
    progress(`${HEADER}\n${row(result)}`);
  } catch (error) {
    failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    progress(`${name} failed: ${failures.at(-1)}`);
  }
}

try {
  const embedder = config.embeddings.provider;
  progress(
    `bench:ingest — embedder ${embedder}, chunks of ${config.chunkTokens} tokens, ${values.concurrency} event(s) at a time per worker`,
  );
  if (only.has('handbook')) {
    const docs = await handbook(values.corpus);
    progress(
      `corpus: ${docs.length} HTML files of ${values.corpus}, ${(docs.reduce((n, d) => n + d.bytes.length, 0) / 1024 / 1024).toFixed(1)} MiB, ` +
        `${docs.reduce((n, d) => n + d.pages, 0).toFixed(0)} page equivalents, ${docs.reduce((n, d) => n + d.chunks, 0)} chunks`,
    );
    for (const workers of workerCounts) await measure(`handbook ×${workers}`, docs, workers);
  }
  if (only.has('big-pdf')) {
    const pages = Number(values['big-pages']);
    // Each page's image: enough grey pixels that the file reaches --big-mb (MB, so 20 stays under
    // the 20 MiB document limit) with its text.
    const text = (await generatedPdf('big-pdf', pages)).bytes.length;
    const side = Math.floor(Math.sqrt(Math.max(0, Number(values['big-mb']) * 1_000_000 - text) / pages));
    const big = await generatedPdf('big-pdf', pages, side);
    progress(
      `big PDF: ${big.pages} pages, ${(big.bytes.length / 1024 / 1024).toFixed(1)} MiB, ${big.chunks} chunks`,
    );
    await measure(`${(big.bytes.length / 1e6).toFixed(0)} MB PDF`, [big], 1);
  }
  if (only.has('pdf')) {
    const pdf = await generatedPdf('manual-1000', Number(values['pdf-pages']));
    progress(
      `PDF: ${pdf.pages} pages, ${(pdf.bytes.length / 1024 / 1024).toFixed(1)} MiB, ${pdf.chunks} chunks`,
    );
    await measure(`${pdf.pages}-page PDF`, [pdf], 1);
  }
} finally {
  await identity.close();
  await issuer.close();
}

out();
out(HEADER);
for (const r of results) out(row(r));
out();
const one = results.find((r) => r.name === 'handbook ×1');
const five = results.find((r) => r.name === 'handbook ×5');
if (one && five) {
  out(
    `5 workers vs 1: ${(five.documents / five.seconds / (one.documents / one.seconds)).toFixed(2)}x documents/s ` +
      `(this machine has ${availableParallelism()} cores, shared)`,
  );
}
const pdf = results.find((r) => r.name.endsWith('-page PDF'));
if (pdf) {
  out(
    `${pdf.pages}-page PDF: ${pdf.seconds.toFixed(1)} s (target under ${TARGET_PDF_SECONDS} s: ${pdf.seconds < TARGET_PDF_SECONDS ? 'met' : 'NOT met'})`,
  );
}
const big = results.find((r) => r.name.endsWith('MB PDF'));
if (big) {
  out(
    `${big.name}: worker peak RSS ${big.rssMb[0]!.toFixed(0)} MiB (target under ${TARGET_RSS_MB} MB: ${big.rssMb[0]! < TARGET_RSS_MB ? 'met' : 'NOT met'})`,
  );
}
out(
  'stage seconds are summed over documents (read+parse, chunk, embed, lock = the document row, write = chunks with their HNSW index entries, current version, outbox; the commit is not included)',
);
out(
  'CPU s: user+system seconds of the worker processes over the measured phase; load: 1-minute load average at the end',
);
out('pages: PDF pages; HTML: page equivalents of 3,000 characters of extracted text');
for (const r of results) for (const p of r.problems) out(`PROBLEM ${r.name}: ${p}`);
for (const failure of failures) out(`FAILED ${failure}`);
process.exit(failures.length > 0 || results.some((r) => r.problems.length > 0) ? 1 : 0);
