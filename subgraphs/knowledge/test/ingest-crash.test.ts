// Crash suite: real ingestion worker processes (scripts/worker.ts --group knowledge-ingest, each
// with a relay) share the group while 200 documents of every format flow in through ingestDocument;
// workers are SIGKILLed at random moments and replaced. Every document must end READY with exactly
// the chunks the pure parse + chunk functions give for its bytes (contents, heading paths, pages,
// vectors), no chunk twice, no document half-indexed, one document.ingested each.
// WIDGETDC_CRASH_SEED=<n> replays a run's corpus, kill times and victims (process timing still varies).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { MAX_DELIVERIES } from '#events/consumer/worker.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, REDIS_URL, workerIdentityEnv } from '../../../events/test/support.ts';
import { loadKnowledgeConfig } from '../src/config.ts';
import { embeddingText, INGEST_GROUP } from '../src/consumers/ingest.ts';
import { HashedTrigramEmbedder } from '../src/embeddings/hashed-embedder.ts';
import { chunkBlocks, type DraftChunk } from '../src/ingest/chunker.ts';
import { parseDocument } from '../src/ingest/parse.ts';
import { sniffMediaType } from '../src/ingest/sniff.ts';
import { createKnowledgeSubgraph } from '../src/subgraph.ts';
import { buildCorpus, type CorpusDocument, seededRandom } from './fixtures/crash-corpus.ts';
import { crashDiagnostics } from './fixtures/crash-diagnostics.ts';
import { INGEST_TOPICS } from './support.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DOCUMENTS = 200;
const WORKERS = 3;
const CONCURRENCY = 3;
const MIN_KILLS = 6;
const SEED = Number(process.env.WIDGETDC_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));

const prefix = `wtdc-ingest-crash:${randomBytes(5).toString('hex')}:`;
// The hashed embedder: USE would make the run CPU-bound on this 2-core machine (see ADR 0017).
const env = { EMBEDDINGS_PROVIDER: 'hashed', EMBEDDINGS_DIMENSIONS: '512' };
const config = loadKnowledgeConfig(env);
const workers = new Set<Worker>();
/** Every delivery a worker started (`ingesting` debug lines), by document id. */
const deliveries = new Map<string, number[]>();
/** Attempts that failed and were retried in the same worker, by error. */
const retries = new Map<string, number>();
let db: TestDatabase;
let issuer: TestIssuer;
let identity: Awaited<ReturnType<typeof workerIdentityEnv>>;
let knowledge: SubgraphHarness;

beforeAll(async () => {
  issuer = await startTestIssuer();
  identity = await workerIdentityEnv(issuer);
  db = await createTestDatabase();
  knowledge = await createSubgraphHarness(createKnowledgeSubgraph(config), db);
});
afterAll(async () => {
  for (const { child } of workers) child.kill('SIGKILL');
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  await transport.destroy(INGEST_TOPICS);
  await transport.close();
  await knowledge?.close();
  await db?.close();
  await identity?.close();
  await issuer?.close();
});

/** A worker process and what the test knows of it from its log. */
interface Worker {
  readonly child: ChildProcess;
  /** It has logged that it reads the group. */
  ready: boolean;
  /** Documents it has started and not yet indexed. */
  readonly inFlight: Set<string>;
}

function startWorker(): Worker {
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'node'),
    ['scripts/worker.ts', '--group', INGEST_GROUP, '--concurrency', String(CONCURRENCY)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        ...env,
        DATABASE_URL: db.appUrl,
        DB_POOL_MAX: '6',
        REDIS_URL,
        EVENTS_STREAM_PREFIX: prefix,
        EVENTS_CLAIM_IDLE_MS: '1500',
        EVENTS_RELAY_POLL_MS: '100',
        EVENTS_RETRY_BACKOFF_MS: '20',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        ...identity.env,
      },
    },
  );
  const worker: Worker = { child, ready: false, inFlight: new Set() };
  workers.add(worker);
  child.once('exit', () => workers.delete(worker));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const entry = JSON.parse(line) as {
      level: string;
      message: string;
      documentId?: string;
      attempt?: number;
      error?: string;
    };
    if (entry.message === 'ingesting') {
      deliveries.set(entry.documentId!, [...(deliveries.get(entry.documentId!) ?? []), entry.attempt!]);
      worker.inFlight.add(entry.documentId!);
    } else if (entry.message === 'document indexed') worker.inFlight.delete(entry.documentId!);
    else if (entry.message === 'attempt failed; retrying')
      retries.set(entry.error!, (retries.get(entry.error!) ?? 0) + 1);
    else if (entry.message.startsWith(`group ${INGEST_GROUP} on`)) worker.ready = true;
    else if (entry.level === 'error') process.stderr.write(`worker ${child.pid}: ${line}\n`);
  });
  return worker;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** {@link eventually}, printing where the pipeline stands (stuck documents, pending entries) if it gives up. */
async function settles(check: () => Promise<boolean>, what: string, limitMs: number, ids: string[]) {
  try {
    await eventually(check, what, limitMs);
  } catch (error) {
    process.stderr.write(
      `ingest crash suite (${db.kind}, seed ${SEED}) gave up waiting: ${what}\n${await crashDiagnostics({
        db,
        redisUrl: REDIS_URL,
        prefix,
        group: INGEST_GROUP,
        documentIds: ids,
        workers,
        deliveries,
      })}`,
    );
    throw error;
  }
}
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the pipeline must store for a document: its drafts from the pure parse and chunk functions. */
async function expectedChunks(doc: CorpusDocument): Promise<DraftChunk[]> {
  const { mediaType } = sniffMediaType(doc.bytes, doc.mimeType, doc.title);
  const parsed = await parseDocument(doc.bytes, mediaType, {
    maxPdfPages: config.maxPdfPages,
    maxDocxUncompressedBytes: config.maxDocxUncompressedBytes,
    maxDocxEntries: config.maxDocxEntries,
  });
  return chunkBlocks(parsed.blocks, {
    maxTokens: config.chunkTokens,
    overlapTokens: config.chunkOverlapTokens,
  });
}

async function submit(who: Identity, doc: CorpusDocument): Promise<string> {
  const result = await knowledge.execute(
    who,
    'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id } }',
    { input: { title: doc.title, mimeType: doc.mimeType, contentBase64: doc.bytes.toString('base64') } },
  );
  if (result.errors) throw new Error(`${doc.title}: ${JSON.stringify(result.errors)}`);
  return (result.data!.ingestDocument as { id: string }).id;
}

describe('ingestion workers under SIGKILL', () => {
  it(`indexes each of ${DOCUMENTS} documents exactly once while workers are killed at random`, async () => {
    process.stderr.write(
      `ingest crash suite (${db.kind}): seed ${SEED} (WIDGETDC_CRASH_SEED=${SEED} replays it)\n`,
    );
    const started = Date.now();
    const corpus = buildCorpus(DOCUMENTS, SEED);
    const random = seededRandom(SEED ^ 0x5eed);
    const alice = await knowledge.identity('crashco', 'alice', ['Contributor']);
    for (let i = 0; i < WORKERS; i++) startWorker();
    let submitting = true;
    let kills = 0;
    let interrupted = 0;
    /** Deliveries of each document cut short by a kill. */
    const interruptions = new Map<string, number>();
    // Three interrupted deliveries of one document rightly fail it (a document that kills workers,
    // ADR 0014): the killer spares a worker holding a document that has lost two already, and one
    // holding an entry delivered MAX_DELIVERIES times (what the consumer's rule counts: entries in
    // hand but not yet started count too, and so does a takeover from a worker starved past the
    // claim time), so that no document is failed by the killer's hand.
    const pendingView = new Redis(REDIS_URL);
    const mostDeliveries = async (w: Worker) => {
      const held = (await pendingView.xpending(
        `${prefix}document.uploaded`,
        INGEST_GROUP,
        '-',
        '+',
        100,
        `${hostname()}-${w.child.pid}`,
      )) as [string, string, number, number][];
      return Math.max(0, ...held.map(([, , , count]) => Number(count)));
    };
    const spareable = async (w: Worker) =>
      [...w.inFlight].every((id) => (interruptions.get(id) ?? 0) < 2) &&
      (await mostDeliveries(w)) < MAX_DELIVERIES;
    const killer = (async () => {
      while (submitting || kills < MIN_KILLS) {
        await sleep(800 + Math.floor(random() * 1200));
        // A worker in the middle of a document, at a random moment of it (parse, embed or write).
        const until = Date.now() + 5000;
        let busy: Worker[] = [];
        while (busy.length === 0 && Date.now() < until) {
          busy = [];
          for (const w of workers) if (w.ready && w.inFlight.size > 0 && (await spareable(w))) busy.push(w);
          if (busy.length === 0) await sleep(10);
        }
        const victim = busy[Math.floor(random() * busy.length)];
        if (!victim) continue;
        await sleep(Math.floor(random() * 60));
        if (!(await spareable(victim))) continue; // it took on more meanwhile
        if (victim.child.kill('SIGKILL')) {
          kills++;
          interrupted += victim.inFlight.size;
          for (const id of victim.inFlight) interruptions.set(id, (interruptions.get(id) ?? 0) + 1);
        }
        startWorker();
      }
    })().finally(() => pendingView.quit());
    const ids: string[] = [];
    for (const [i, doc] of corpus.entries()) {
      ids.push(await submit(alice, doc));
      if (i % 10 === 9) await sleep(Math.floor(random() * 400));
    }
    submitting = false;
    await killer;
    const statuses = async () =>
      db.asSuperuser<{ id: string; status: string; error: string | null; chunk_count: number | null }>(
        'select id, status, error, chunk_count from knowledge.documents where id = any($1)',
        [ids],
      );
    await settles(
      async () => (await statuses()).every((d) => d.status === 'READY' || d.status === 'FAILED'),
      'every document finished',
      // Generous: the machine is shared, and this waits for progress, not for a duration.
      240_000,
      ids,
    );
    // Settled: every entry acknowledged (a killed worker's are reclaimed first), the outbox empty.
    const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
    let ingestedEvents = 0;
    let failedEvents = 0;
    try {
      await settles(
        async () => {
          const stats = await transport.stats('document.uploaded', INGEST_GROUP);
          const outbox = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
          return stats.pending === 0 && stats.lag === 0 && Number(outbox[0]!.n) === 0;
        },
        'every entry acknowledged',
        90_000,
        ids,
      );
      failedEvents = (await transport.stats('document.failed', INGEST_GROUP)).length;
    } finally {
      await transport.close();
    }

    // A relay killed between appending to the stream and committing appends again (at least once;
    // consumers skip a copy by its event id): count the distinct events and the documents they name.
    const redis = new Redis(REDIS_URL);
    const entries = await redis.xrange(`${prefix}document.ingested`, '-', '+').finally(() => redis.quit());
    const ingested = entries.map(([, fields]) => {
      const event = JSON.parse(fields[fields.indexOf('body') + 1]!) as {
        id: string;
        payload: { documentId: string };
      };
      return { id: event.id, documentId: event.payload.documentId };
    });
    ingestedEvents = new Set(ingested.map((e) => e.id)).size;
    const ingestedDocuments = new Set(ingested.map((e) => e.documentId));
    const rows = await statuses();
    const notReady = rows.filter((d) => d.status !== 'READY').map((d) => `${d.id}: ${d.status} ${d.error}`);
    const embedder = new HashedTrigramEmbedder(config.embeddings.dimensions);
    const mismatched: string[] = [];
    let expectedTotal = 0;
    for (const [i, doc] of corpus.entries()) {
      const expected = await expectedChunks(doc);
      expectedTotal += expected.length;
      const stored = await db.asSuperuser<{
        ordinal: number;
        content: string;
        heading_path: string;
        page: number | null;
        token_count: number;
        embedding_model: string;
        embedding: string;
      }>(
        `select ordinal, content, heading_path, page, token_count, embedding_model, embedding::text
           from knowledge.chunks where document_id = $1 order by ordinal`,
        [ids[i]],
      );
      const shape = (c: { ordinal: number; content: string; heading_path: string; page: number | null }) =>
        `${c.ordinal}|${sha(c.content)}|${c.heading_path}|${c.page}`;
      const want = expected.map((c) => shape({ ...c, heading_path: c.headingPath }));
      const got = stored.map(shape);
      const row = rows.find((r) => r.id === ids[i]);
      if (want.join() !== got.join() || row?.chunk_count !== expected.length) {
        mismatched.push(`${doc.title} (${ids[i]}): ${got.length} chunks stored, ${expected.length} expected`);
        continue;
      }
      const vectors = await embedder.embed(expected.map(embeddingText));
      for (const [n, chunk] of stored.entries()) {
        const vector = JSON.parse(chunk.embedding) as number[];
        const off = Math.max(...vector.map((x, k) => Math.abs(x - vectors[n]![k]!)));
        if (
          chunk.embedding_model !== embedder.model ||
          chunk.token_count !== expected[n]!.tokenCount ||
          off > 1e-5
        ) {
          mismatched.push(`${doc.title} chunk ${n}: model ${chunk.embedding_model}, vector off by ${off}`);
        }
      }
    }
    const [totals] = await db.asSuperuser<{ total: string; distinct: string; orphans: string }>(
      `select count(*) as total, count(distinct (document_id, ordinal)) as distinct,
              count(*) filter (where d.status <> 'READY') as orphans
         from knowledge.chunks c join knowledge.documents d on d.id = c.document_id`,
    );
    const [processed] = await db.asSuperuser<{ n: string }>(
      'select count(*) as n from platform.processed_events where consumer_group = $1',
      [INGEST_GROUP],
    );
    const started_ = [...deliveries.values()];
    const redelivered = started_.filter((attempts) => attempts.length > 1).length;
    const kinds = corpus.reduce<Record<string, number>>((n, d) => {
      const kind = d.mimeType.split('/')[1]!.replace(/^vnd\..*/, 'docx');
      n[kind] = (n[kind] ?? 0) + 1;
      return n;
    }, {});
    process.stderr.write(
      `ingest crash suite (${db.kind}, seed ${SEED}): ${DOCUMENTS} documents (${Object.entries(kinds)
        .map(([k, n]) => `${n} ${k}`)
        .join(
          ', ',
        )}, ${(corpus.reduce((n, d) => n + d.bytes.length, 0) / 1024).toFixed(0)} KiB), ${kills} workers SIGKILLed (${interrupted} documents in flight on them), ` +
        `${started_.reduce((n, a) => n + a.length, 0)} deliveries started for ${started_.length} documents ` +
        `(${redelivered} documents redelivered), ${totals!.total} chunks (${expectedTotal} expected), ` +
        `${ingestedEvents} document.ingested (${ingested.length - ingestedEvents} relayed twice), ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    for (const [error, n] of retries) process.stderr.write(`  retried ${n}×: ${error}\n`);
    expect(notReady).toEqual([]);
    // A kill causes redeliveries, never a failed attempt in a surviving worker.
    expect([...retries]).toEqual([]);
    expect(mismatched).toEqual([]);
    expect(Number(totals!.total)).toBe(expectedTotal);
    expect(Number(totals!.distinct)).toBe(expectedTotal);
    expect(Number(totals!.orphans)).toBe(0);
    expect(Number(processed!.n)).toBe(DOCUMENTS);
    expect(ingestedEvents).toBe(DOCUMENTS);
    expect([...ingestedDocuments].sort()).toEqual([...ids].sort());
    expect(failedEvents).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
  }, 420_000);
});
