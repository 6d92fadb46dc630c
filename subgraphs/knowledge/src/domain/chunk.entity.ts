import { defineEntity, p } from '@mikro-orm/postgresql';
import { VectorType } from 'pgvector/mikro-orm';

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
    headingPath: p.text(),
    page: p.integer().nullable(),
    tokenCount: p.integer(),
    // The column's size is the configured embedder's (a migration sets it; workers check it at start).
    embedding: p.type(VectorType).columnType('vector'),
    embeddingModel: p.text(),
    createdAt: p.datetime(3),
  },
});

/** A passage of a document with its embedding and the model that made it (HNSW cosine index). */
export class Chunk extends ChunkSchema.class {}

ChunkSchema.setClass(Chunk);

export { ChunkSchema };
