import type { EntityManager } from '@mikro-orm/postgresql';
import { ConfigError } from '#kernel/errors.ts';
import type { EmbeddingsConfig } from '../config.ts';
import type { Embedder } from './embedder.ts';
import { HashedTrigramEmbedder } from './hashed-embedder.ts';
import { OpenAiEmbedder } from './openai-embedder.ts';
import { UniversalSentenceEncoder } from './use-embedder.ts';

/** The embedder the configuration names. */
export function createEmbedder(config: EmbeddingsConfig): Embedder {
  switch (config.provider) {
    case 'use':
      return new UniversalSentenceEncoder();
    case 'hashed':
      return new HashedTrigramEmbedder(config.dimensions);
    case 'openai':
      return new OpenAiEmbedder({
        endpoint: config.endpoint!,
        apiKey: config.apiKey,
        model: config.model!,
        dimensions: config.dimensions,
        batchSize: config.batchSize,
        timeoutMs: config.timeoutMs,
        maxRetries: config.maxRetries,
      });
  }
}

/** Dimensions of `knowledge.chunks.embedding` (pgvector keeps them in the column's type modifier). */
export async function embeddingColumnDimensions(em: EntityManager): Promise<number> {
  const rows = await em.execute<{ dims: number }[]>(
    `select atttypmod as dims from pg_attribute
     where attrelid = 'knowledge.chunks'::regclass and attname = 'embedding' and not attisdropped`,
  );
  return Number(rows[0]?.dims ?? -1);
}

/**
 * Refuses to start when the embedder's dimensions differ from the database column's, naming
 * both: vectors of another size could not be stored (or compared with the stored ones).
 */
export async function assertEmbeddingColumn(em: EntityManager, embedder: Embedder): Promise<void> {
  const column = await embeddingColumnDimensions(em);
  if (column !== embedder.dimensions) {
    throw new ConfigError([
      `the embedder ${embedder.model} makes ${embedder.dimensions}-dimensional vectors but knowledge.chunks.embedding ` +
        `is vector(${column}); set EMBEDDINGS_DIMENSIONS=${column} with a model that makes vectors of that size ` +
        '(npm run knowledge:reembed moves chunks to another model of the same size; a new size needs a migration ' +
        'of the column, see ADR 0017)',
    ]);
  }
}
