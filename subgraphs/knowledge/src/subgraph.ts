import { DateTimeScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { ChunkSchema } from './domain/chunk.entity.ts';
import { DocumentSchema } from './domain/document.entity.ts';
import { Document } from './resolvers/Document.ts';
import { Query } from './resolvers/Query.ts';

/** The knowledge subgraph: documents, chunks and their embeddings. */
export const knowledgeSubgraph: SubgraphDefinition = {
  name: 'knowledge',
  schema: new URL('../schema.graphql', import.meta.url),
  resolvers: { DateTime: DateTimeScalar, Query, Document } as SubgraphDefinition['resolvers'],
  entities: [DocumentSchema, ChunkSchema],
};
