import type { PayloadOf } from '#events/catalogue.ts';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { testDatabaseKind } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { testWorkerIdentity } from '../../../events/test/support.ts';
import { type Embedder, EmbeddingError } from '../src/embeddings/embedder.ts';
import { HashedTrigramEmbedder } from '../src/embeddings/hashed-embedder.ts';
import { DocumentStatusChanged } from '../src/events.ts';
import { buildPdf } from './fixtures/pdf.ts';
import { base64, eventually, useIngestSuite } from './support.ts';

/**
 * Hashed trigrams, except that a passage containing POISON always fails and one containing FLAKY
 * fails the first time it is seen (an embedding outage that passes).
 */
class TroubledEmbedder implements Embedder {
  readonly model = 'hashed-trigram-512';
  readonly dimensions = 512;
  readonly #inner = new HashedTrigramEmbedder(512);
  readonly #seen = new Set<string>();
  async embed(texts: readonly string[]): Promise<number[][]> {
    if (texts.some((t) => t.includes('POISON'))) throw new EmbeddingError('the provider keeps failing');
    const flaky = texts.find((t) => t.includes('FLAKY') && !this.#seen.has(t));
    if (flaky) {
      this.#seen.add(flaky);
      throw new EmbeddingError('the provider is briefly down');
    }
    return this.#inner.embed(texts);
  }
}

// The embedded transport `npm start` runs without REDIS_URL; on the pglite project this is what
// `npm start` runs (embedded PGlite, one session).
const suite = useIngestSuite({ embedder: new TroubledEmbedder(), transport: 'postgres' });
const singleSession = testDatabaseKind() === 'pglite';

type Change = PayloadOf<typeof DocumentStatusChanged>;
/** What a consumer of document.status_changed received, per document, in order. */
const received = new Map<string, Change[]>();
let recorder: EventWorker;
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  recorder = new EventWorker({
    orm: suite.orm,
    transport: suite.transport,
    consumer: defineConsumer({
      group: 'status-recorder',
      events: [DocumentStatusChanged],
      audited: false,
      async handle(event) {
        const list = received.get(event.payload.documentId) ?? [];
        list.push(event.payload);
        received.set(event.payload.documentId, list);
      },
    }),
    consumerName: 'recorder',
    concurrency: 1,
    actorFor: testWorkerIdentity(issuer, 'status-recorder').actorFor,
    retryBackoffMs: 20,
    blockMs: 100,
  });
  await recorder.start();
}, 60_000);
afterAll(async () => {
  await recorder?.close();
  await issuer?.close();
});

/** The transitions a consumer received for `id`, once the last one is READY or FAILED. */
async function transitions(id: string): Promise<string[]> {
  await eventually(
    async () => (received.get(id) ?? []).some((c) => c.to === 'READY' || c.to === 'FAILED'),
    `the final status change of ${id}`,
  );
  return received.get(id)!.map((c) => `${c.from ?? 'null'}→${c.to}${c.error ? ` (${c.error})` : ''}`);
}

const HAPPY = ['null→QUEUED', 'QUEUED→PARSING', 'PARSING→EMBEDDING', 'EMBEDDING→READY'];

describe('document.status_changed', () => {
  it('announces QUEUED, PARSING, EMBEDDING, READY in order, each document on its first attempt', async () => {
    const alice = await suite.identity('acme');
    const ids = [];
    for (const n of [1, 2, 3, 4])
      ids.push(await suite.ingest(alice, { title: `Doc ${n}`, text: `Text ${n}.` }));
    for (const id of ids) expect(await transitions(id)).toEqual(HAPPY);
    for (const id of ids) expect((await suite.finished(alice, id)).status).toBe('READY');
    // No attempt failed and was retried (on PGlite a progress status once made READY a conflict).
    expect(suite.worker.counters).toMatchObject({ failedAttempts: 0, deadLettered: 0, handled: 4 });
  });

  it('a duplicate upload announces nothing; unreadable content moves to FAILED with its reason', async () => {
    const alice = await suite.identity('acme');
    const first = await suite.ingest(alice, { title: 'Once', text: 'Said once.' });
    expect(await suite.ingest(alice, { title: 'Twice', text: 'Said once.' })).toBe(first);
    const scan = await suite.ingest(alice, { title: 'Scan', contentBase64: base64(buildPdf([null])) });
    expect(await transitions(scan)).toEqual([
      'null→QUEUED',
      'QUEUED→PARSING',
      expect.stringMatching(/^PARSING→FAILED \(PDF has no text layer/),
    ]);
    expect(await transitions(first)).toEqual(HAPPY);
  });

  it('a retried attempt and a poison document announce exactly what the document went through', async () => {
    const alice = await suite.identity('acme');
    const flaky = await suite.ingest(alice, { title: 'Flaky', text: 'A FLAKY passage.' });
    const poison = await suite.ingest(alice, { title: 'Poison', text: 'A POISON passage.' });
    const reason = 'ingestion failed 3 times: EmbeddingError: the provider keeps failing';
    if (singleSession) {
      // Progress lives in the event's transaction: a failed attempt leaves and announces nothing.
      expect(await transitions(flaky)).toEqual(HAPPY);
      expect(await transitions(poison)).toEqual(['null→QUEUED', `QUEUED→FAILED (${reason})`]);
    } else {
      // Progress commits beside it: a failed attempt is seen, and the next one restarts.
      expect(await transitions(flaky)).toEqual([
        'null→QUEUED',
        'QUEUED→PARSING',
        'PARSING→EMBEDDING',
        'EMBEDDING→PARSING',
        'PARSING→EMBEDDING',
        'EMBEDDING→READY',
      ]);
      expect(await transitions(poison)).toEqual([
        'null→QUEUED',
        'QUEUED→PARSING',
        'PARSING→EMBEDDING',
        'EMBEDDING→PARSING',
        'PARSING→EMBEDDING',
        'EMBEDDING→PARSING',
        'PARSING→EMBEDDING',
        `EMBEDDING→FAILED (${reason})`,
      ]);
    }
    expect(await suite.finished(alice, poison)).toMatchObject({ status: 'FAILED', error: reason });
  });
});
