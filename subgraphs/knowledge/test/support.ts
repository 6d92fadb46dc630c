import type { MikroORM } from '@mikro-orm/postgresql';
import { EventWorker } from '#events/consumer/worker.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { createLogger } from '#kernel/logger.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, makeTransport, testWorkerIdentity } from '../../../events/test/support.ts';
import { type KnowledgeConfig, loadKnowledgeConfig } from '../src/config.ts';
import { createIngestConsumer } from '../src/consumers/ingest.ts';
import type { Embedder } from '../src/embeddings/embedder.ts';
import { HashedTrigramEmbedder } from '../src/embeddings/hashed-embedder.ts';
import { createKnowledgeSubgraph } from '../src/subgraph.ts';

export { eventually };

/** The knowledge subgraph, a relay and an ingestion worker on a fresh database. */
export interface IngestSuite {
  readonly db: TestDatabase;
  readonly knowledge: SubgraphHarness;
  readonly orm: MikroORM;
  readonly transport: StreamTransport;
  readonly worker: EventWorker;
  readonly config: KnowledgeConfig;
  /** A registered tenant's user identity with `roles`. */
  identity(tenant: string, user?: string, roles?: string[]): Promise<Identity>;
  /** Ingests inline content and returns the document's id. */
  ingest(who: Identity, input: Record<string, unknown>): Promise<string>;
  /** Waits until the document is READY or FAILED and returns it. */
  finished(who: Identity, id: string): Promise<Record<string, unknown>>;
}

/** The topics the pipeline writes to (destroyed after a suite). */
export const INGEST_TOPICS = [
  'document.uploaded',
  'document.ingested',
  'document.failed',
  'document.status_changed',
];

const DOC_FIELDS =
  'id title mimeType status error chunkCount pageCount bytes language sourceUri version current contentSha256 metadata ingestedAt';

/**
 * Opens the suite's services before its tests and closes them after: the subgraph (harness),
 * Redis transport, relay, and one knowledge-ingest worker with `embedder` (hashed trigrams by default).
 */
export function useIngestSuite(
  options: {
    env?: Record<string, string>;
    embedder?: Embedder;
    /** The event transport (default Redis); `postgres` is the embedded one `npm start` runs without REDIS_URL. */
    transport?: 'redis' | 'postgres';
  } = {},
): IngestSuite {
  let db: TestDatabase;
  let knowledge: SubgraphHarness;
  let orm: MikroORM;
  let transport: StreamTransport;
  let relay: OutboxRelay;
  let worker: EventWorker;
  let issuer: TestIssuer;
  const config = loadKnowledgeConfig({ EMBEDDINGS_PROVIDER: 'hashed', ...options.env });
  const embedder = options.embedder ?? new HashedTrigramEmbedder(512);
  beforeAll(async () => {
    issuer = await startTestIssuer();
    db = await createTestDatabase();
    knowledge = await createSubgraphHarness(createKnowledgeSubgraph(config), db);
    const consumer = createIngestConsumer({ config, embedder });
    orm = await createOrm({ url: db.appUrl, entities: [...consumer.entities!], poolMax: 6 });
    await consumer.prepare(orm);
    transport = makeTransport(options.transport ?? 'redis', db);
    relay = new OutboxRelay({ url: db.appUrl, transport, pollMs: 50 });
    relay.start();
    worker = new EventWorker({
      orm,
      transport,
      consumer,
      consumerName: 'test',
      concurrency: 3,
      actorFor: testWorkerIdentity(issuer, 'knowledge-worker').actorFor,
      retryBackoffMs: 20,
      blockMs: 100,
      ...(process.env.WIDGETDC_TEST_LOG === 'debug'
        ? { logger: createLogger('ingest', { level: 'debug' }) }
        : {}),
    });
    await worker.start();
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await relay?.close();
    await transport?.destroy(INGEST_TOPICS);
    await transport?.close();
    await orm?.close();
    await knowledge?.close();
    await db?.close();
    await issuer?.close();
  });
  const suite: IngestSuite = {
    get db() {
      return db;
    },
    get knowledge() {
      return knowledge;
    },
    get orm() {
      return orm;
    },
    get transport() {
      return transport;
    },
    get worker() {
      return worker;
    },
    config,
    identity: (tenant, user, roles) => knowledge.identity(tenant, user, roles),
    async ingest(who, input) {
      const result = await knowledge.execute(
        who,
        'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id status } }',
        { input },
      );
      if (result.errors) throw new Error(JSON.stringify(result.errors));
      return (result.data!.ingestDocument as { id: string }).id;
    },
    async finished(who, id) {
      let doc: Record<string, unknown> | undefined;
      await eventually(async () => {
        const result = await knowledge.execute(
          who,
          `query ($id: ID!) { document(id: $id) { ${DOC_FIELDS} } }`,
          {
            id,
          },
        );
        doc = result.data?.document as Record<string, unknown> | undefined;
        return doc?.status === 'READY' || doc?.status === 'FAILED';
      }, `document ${id} finished`);
      return doc!;
    },
  };
  return suite;
}

/** Base64 of bytes, as a client sends them. */
export const base64 = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64');
