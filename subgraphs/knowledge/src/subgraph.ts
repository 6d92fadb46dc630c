import { readFileSync } from 'node:fs';
import { Kind, parse } from 'graphql';
import { declaredRoles, type Role } from '#kernel/graphql/roles.ts';
import { DateTimeScalar, JSONObjectScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { createGenerationRecorder, type GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import type { Answerer } from './answer/answerer.ts';
import { AskService } from './answer/ask.service.ts';
import { createAnswerer } from './answer/create-answerer.ts';
import { type KnowledgeConfig, loadKnowledgeConfig } from './config.ts';
import { ChunkSchema } from './domain/chunk.entity.ts';
import { DocumentSchema } from './domain/document.entity.ts';
import { createEmbedder } from './embeddings/create-embedder.ts';
import type { Embedder } from './embeddings/embedder.ts';
import { Chunk } from './resolvers/Chunk.ts';
import { Document } from './resolvers/Document.ts';
import { createMutation } from './resolvers/Mutation.ts';
import { Query } from './resolvers/Query.ts';
import { AskStreamEventType, createSubscription } from './resolvers/Subscription.ts';
import { createSearchQueries } from './resolvers/search-queries.ts';
import { createReranker } from './search/create-reranker.ts';
import type { Reranker } from './search/reranker.ts';
import { SearchService } from './search/search.service.ts';
import { createUploadRoute, UPLOAD_PATH } from './upload/upload-route.ts';

const SCHEMA = new URL('../schema.graphql', import.meta.url);

/** The roles `Mutation.<field>` declares in the SDL (the streamed upload admits whom ingestDocument does). */
export function mutationRoles(field: string): Role[] {
  for (const definition of parse(readFileSync(SCHEMA, 'utf8')).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION || definition.name.value !== 'Mutation') continue;
    const node = definition.fields?.find((f) => f.name.value === field);
    const roles = node && declaredRoles([node], `Mutation.${field}`);
    if (roles) return roles;
  }
  throw new Error(`the knowledge SDL declares no roles for Mutation.${field}`);
}

/** Components the subgraph is built with; absent ones come from the configuration. */
export interface KnowledgeComponents {
  /** Embeds queries: must be the embedder the chunks were embedded with (EMBEDDINGS_PROVIDER). */
  embedder?: Embedder;
  /** Reorders the fused candidates (KNOWLEDGE_RERANKER). */
  reranker?: Reranker;
  /** Writes `ask`'s answers (LLM_PROVIDER). */
  answerer?: Answerer;
  /** Records every model call as a generation (LLM_REDACT, LLM_PRICES; ADR 0037). */
  recorder?: GenerationRecorder;
}

/** The knowledge subgraph (documents, their ingestion, chunks and embeddings) for a configuration. */
export function createKnowledgeSubgraph(
  config: KnowledgeConfig = loadKnowledgeConfig(),
  components: KnowledgeComponents = {},
): SubgraphDefinition {
  const recorder = components.recorder ?? createGenerationRecorder(config.generations);
  const search = new SearchService({
    recorder,
    embedder: components.embedder ?? createEmbedder(config.embeddings),
    config: config.search,
    reranker: components.reranker ?? createReranker(config.search),
  });
  const ask = new AskService({
    search,
    answerer: components.answerer ?? createAnswerer(config.answer),
    sources: config.answer.sources,
    recorder,
  });
  return {
    name: 'knowledge',
    schema: SCHEMA,
    resolvers: {
      DateTime: DateTimeScalar,
      JSONObject: JSONObjectScalar,
      Query: { ...Query, ...createSearchQueries({ search, ask }) },
      Mutation: createMutation(config),
      Subscription: createSubscription({ ask }),
      AskStreamEvent: AskStreamEventType,
      Document,
      Chunk,
    } as SubgraphDefinition['resolvers'],
    entities: [DocumentSchema, ChunkSchema],
    // Base64 grows 4/3; twice that leaves room to answer an oversized document with its limit by name.
    largeBodies: {
      maxBytes: Math.ceil((config.maxDocumentBytes * 8) / 3) + 1024 * 1024,
      rootFields: ['ingestDocument'],
    },
    routes: (deps) => ({
      [UPLOAD_PATH]: createUploadRoute({
        ...deps,
        maxBytes: config.maxUploadBytes,
        roles: mutationRoles('ingestDocument'),
      }),
    }),
  };
}

/** The knowledge subgraph with the configuration of the environment. */
export const knowledgeSubgraph: SubgraphDefinition = createKnowledgeSubgraph();
