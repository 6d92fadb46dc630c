// The whole graph with a knowledge subgraph of a given configuration and an ingestion worker, for
// tests of retrieval and answers through the gateway (documents ingested by the real pipeline).

import type { MikroORM } from '@mikro-orm/postgresql';
import { EventWorker } from '#events/consumer/worker.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { eventually, makeTransport, testWorkerIdentity } from '../../../events/test/support.ts';
import { loadKnowledgeConfig } from '../../../subgraphs/knowledge/src/config.ts';
import { createIngestConsumer } from '../../../subgraphs/knowledge/src/consumers/ingest.ts';
import { HashedTrigramEmbedder } from '../../../subgraphs/knowledge/src/embeddings/hashed-embedder.ts';
import { createKnowledgeSubgraph } from '../../../subgraphs/knowledge/src/subgraph.ts';
import { startTestPlatform, type TestPlatform, type TestPlatformOptions } from './platform.ts';

/** The platform, and documents ingested through the gateway. */
export interface KnowledgePlatform {
  readonly platform: TestPlatform;
  /** Ingests inline text as `token`'s caller and waits until it is READY; returns its id. */
  ingest(token: string, input: { title: string; text: string; mimeType?: string }): Promise<string>;
  close(): Promise<void>;
}

const TOPICS = ['document.uploaded', 'document.ingested', 'document.failed', 'document.status_changed'];

/** Starts the platform with a knowledge subgraph configured by `env` (hashed embeddings) and a worker. */
export async function startKnowledgePlatform(
  env: Record<string, string> = {},
  options: Pick<TestPlatformOptions, 'audit'> = {},
): Promise<KnowledgePlatform> {
  const config = loadKnowledgeConfig({ EMBEDDINGS_PROVIDER: 'hashed', ...env });
  const platform = await startTestPlatform({ ...options, knowledge: createKnowledgeSubgraph(config) });
  let orm: MikroORM | undefined;
  let transport: StreamTransport | undefined;
  let relay: OutboxRelay | undefined;
  let worker: EventWorker | undefined;
  const close = async () => {
    await worker?.close();
    await relay?.close();
    await transport?.destroy(TOPICS);
    await transport?.close();
    await orm?.close();
    await platform.close();
  };
  try {
    const consumer = createIngestConsumer({ config, embedder: new HashedTrigramEmbedder(512) });
    orm = await createOrm({ url: platform.db.appUrl, entities: [...consumer.entities!], poolMax: 3 });
    await consumer.prepare(orm);
    transport = makeTransport('redis', platform.db);
    relay = new OutboxRelay({ url: platform.db.appUrl, transport, pollMs: 50 });
    relay.start();
    worker = new EventWorker({
      orm,
      transport,
      consumer,
      consumerName: 'test',
      concurrency: 2,
      actorFor: testWorkerIdentity(platform.issuer, 'knowledge-worker').actorFor,
      retryBackoffMs: 20,
      blockMs: 100,
    });
    await worker.start();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    platform,
    async ingest(token, input) {
      const created = await platform.post(
        {
          query: 'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id } }',
          variables: { input: { mimeType: 'text/markdown', ...input } },
        },
        token,
      );
      if (created.body.errors) throw new Error(JSON.stringify(created.body.errors));
      const id = (created.body.data as { ingestDocument: { id: string } }).ingestDocument.id;
      await eventually(async () => {
        const found = await platform.post(
          { query: 'query ($id: ID!) { document(id: $id) { status } }', variables: { id } },
          token,
        );
        const status = (found.body.data as { document: { status: string } | null }).document?.status;
        if (status === 'FAILED') throw new Error(`document ${id} failed to ingest`);
        return status === 'READY';
      }, `document ${id} ready`);
      return id;
    },
    close,
  };
}
