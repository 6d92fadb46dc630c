import { defineEntity, p } from '@mikro-orm/postgresql';
import { VectorType } from 'pgvector/mikro-orm';

/** Dimensions of every stored embedding (the `vector(384)` column). */
export const EMBEDDING_DIMENSIONS = 384;

const ChunkSchema = defineEntity({
  name: 'Chunk',
  schema: 'knowledge',
  tableName: 'chunks',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    documentId: p.uuid(),
    ordinal: p.integer(),
    content: p.text(),
    embedding: p.type(VectorType).columnType(`vector(${EMBEDDING_DIMENSIONS})`),
    createdAt: p.datetime(3),
  },
});

/** A passage of a document with its embedding, searched by cosine distance (HNSW index). */
export class Chunk extends ChunkSchema.class {}

ChunkSchema.setClass(Chunk);

export { ChunkSchema };
