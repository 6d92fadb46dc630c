import { DateTimeScalar, JSONObjectScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { type KnowledgeConfig, loadKnowledgeConfig } from './config.ts';
import { ChunkSchema } from './domain/chunk.entity.ts';
import { DocumentSchema } from './domain/document.entity.ts';
import { Document } from './resolvers/Document.ts';
import { createMutation } from './resolvers/Mutation.ts';
import { Query } from './resolvers/Query.ts';

/** The knowledge subgraph (documents, their ingestion, chunks and embeddings) for a configuration. */
export function createKnowledgeSubgraph(config: KnowledgeConfig = loadKnowledgeConfig()): SubgraphDefinition {
  return {
    name: 'knowledge',
    schema: new URL('../schema.graphql', import.meta.url),
    resolvers: {
      DateTime: DateTimeScalar,
      JSONObject: JSONObjectScalar,
      Query,
      Mutation: createMutation(config),
      Document,
    } as SubgraphDefinition['resolvers'],
    entities: [DocumentSchema, ChunkSchema],
    // Base64 grows 4/3; twice that leaves room to answer an oversized document with its limit by name.
    largeBodies: {
      maxBytes: Math.ceil((config.maxDocumentBytes * 8) / 3) + 1024 * 1024,
      rootFields: ['ingestDocument'],
    },
  };
}

/** The knowledge subgraph with the configuration of the environment. */
export const knowledgeSubgraph: SubgraphDefinition = createKnowledgeSubgraph();
