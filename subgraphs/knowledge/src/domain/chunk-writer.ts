import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { DraftChunk } from '../ingest/chunker.ts';

/** Rows per insert statement (11 parameters each, far below the protocol's 65,535). */
const ROWS_PER_STATEMENT = 500;

/** A chunk ready to store: its draft, its vector and the model that made it. */
export interface EmbeddedChunk extends DraftChunk {
  readonly embedding: readonly number[];
}

/**
 * Replaces a document's chunks with `chunks`, in the caller's transaction: the document's chunks
 * appear together when it commits, or not at all.
 */
export async function replaceChunks(
  em: EntityManager,
  tenantId: string,
  documentId: string,
  model: string,
  chunks: readonly EmbeddedChunk[],
): Promise<void> {
  await em.execute('delete from knowledge.chunks where document_id = ?', [documentId]);
  const now = new Date();
  for (let i = 0; i < chunks.length; i += ROWS_PER_STATEMENT) {
    const rows = chunks.slice(i, i + ROWS_PER_STATEMENT);
    await em.execute(
      `insert into knowledge.chunks
         (id, tenant_id, document_id, ordinal, content, heading_path, page, token_count, embedding, embedding_model, created_at)
       values ${rows.map(() => `(?, ?, ?, ?, ?, ?, ?, ?, ?::vector, ?, ?)`).join(', ')}`,
      rows.flatMap((c) => [
        randomUUID(),
        tenantId,
        documentId,
        c.ordinal,
        c.content.replaceAll('\u0000', ''),
        c.headingPath,
        c.page,
        c.tokenCount,
        `[${c.embedding.join(',')}]`,
        model,
        now,
      ]),
    );
  }
}
