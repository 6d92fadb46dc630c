import type { EntityManager } from '@mikro-orm/postgresql';
import type { Document } from '../domain/document.entity.ts';

/** A chunk as the API shows it (no vector): its text, place in the document and, once loaded, the document. */
export interface ChunkView {
  readonly id: string;
  readonly documentId: string;
  readonly ordinal: number;
  readonly text: string;
  readonly headingPath: string;
  readonly page: number | null;
  document?: Document;
}

/** A chunk row as the search queries select it. */
export interface ChunkRow {
  id: string;
  document_id: string;
  ordinal: number;
  content: string;
  heading_path: string;
  page: number | null;
}

/** The columns of {@link ChunkRow}, qualified by the alias `c`. */
export const CHUNK_COLUMNS = 'c.id, c.document_id, c.ordinal, c.content, c.heading_path, c.page';

/** A {@link ChunkView} of a selected row. */
export function chunkView(row: ChunkRow): ChunkView {
  return {
    id: row.id,
    documentId: row.document_id,
    ordinal: row.ordinal,
    text: row.content,
    headingPath: row.heading_path,
    page: row.page,
  };
}

/** One chunk of the caller's tenant (row-level security), or null. */
export async function findChunk(em: EntityManager, id: string): Promise<ChunkView | null> {
  const rows = await em.execute<ChunkRow[]>(
    `select ${CHUNK_COLUMNS} from knowledge.chunks c where c.id = ?`,
    [id],
  );
  return rows[0] ? chunkView(rows[0]) : null;
}

/** A window of a document's chunks in order, from `fromOrdinal`, at most `first` (caller's tenant by RLS). */
export async function chunksOf(
  em: EntityManager,
  documentId: string,
  fromOrdinal: number,
  first: number,
): Promise<ChunkView[]> {
  const rows = await em.execute<ChunkRow[]>(
    `select ${CHUNK_COLUMNS} from knowledge.chunks c where c.document_id = ? and c.ordinal >= ? order by c.ordinal limit ?`,
    [documentId, fromOrdinal, first],
  );
  return rows.map(chunkView);
}
