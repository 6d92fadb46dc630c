import { loadKnowledgeConfig } from '../config.ts';
import { createEmbedder } from '../embeddings/create-embedder.ts';
import { createIngestConsumer } from './ingest.ts';

const config = loadKnowledgeConfig();

/** `knowledge-ingest` with the environment's configuration and embedder (the model loads on first use). */
export const knowledgeIngest = createIngestConsumer({ config, embedder: createEmbedder(config.embeddings) });

/** The knowledge subgraph's event consumers; `npm run worker -- --group <group>` runs one of them. */
export const consumers = [knowledgeIngest];
