import type { EntityManager } from '@mikro-orm/postgresql';
import { Document } from '../domain/document.entity.ts';
import { CHUNK_COLUMNS, type ChunkRow, type ChunkView, chunkView } from './chunk-view.ts';
import { inList } from './filter.ts';
import { HEADLINE_OPTIONS, TRANSLATE_FROM, TRANSLATE_TO, toSnippet } from './snippet.ts';

/** A chunk with its document and its highlighted snippet. */
export interface Passage {
  readonly chunk: ChunkView & { document: Document };
  readonly snippet: string;
}

/**
 * Loads chunks by id with their documents (one query each) and a snippet of each: ts_headline
 * in the chunk's own text-search configuration, around the words of `query`.
 */
export async function loadPassages(
  em: EntityManager,
  ids: readonly string[],
  query: string,
): Promise<Map<string, Passage>> {
  const out = new Map<string, Passage>();
  if (ids.length === 0) return out;
  const rows = await em.execute<(ChunkRow & { headline: string })[]>(
    `select ${CHUNK_COLUMNS},
            ts_headline(c.ts_config, translate(c.content, ?, ?), websearch_to_tsquery(c.ts_config, ?), ?) as headline
       from knowledge.chunks c where ${inList('c.id', ids)}`,
    [TRANSLATE_FROM, TRANSLATE_TO, query, HEADLINE_OPTIONS, ...ids],
  );
  const documentIds = [...new Set(rows.map((r) => r.document_id))];
  const documents = new Map(
    (await em.find(Document, { id: { $in: documentIds } })).map((doc) => [doc.id, doc]),
  );
  for (const row of rows) {
    const document = documents.get(row.document_id);
    if (!document) continue;
    out.set(row.id, { chunk: { ...chunkView(row), document }, snippet: toSnippet(row.headline) });
  }
  return out;
}

/** What a reranker reads of a chunk. */
export interface CandidateText {
  readonly text: string;
  readonly headingPath: string;
}

/**
 * The text and heading path of each chunk in `ids` (one query, no snippet: the reranker reads many
 * candidates, and only the few it returns need ts_headline and their documents).
 */
export async function loadCandidateTexts(
  em: EntityManager,
  ids: readonly string[],
): Promise<Map<string, CandidateText>> {
  if (ids.length === 0) return new Map();
  const rows = await em.execute<{ id: string; content: string; heading_path: string }[]>(
    `select c.id, c.content, c.heading_path from knowledge.chunks c where ${inList('c.id', ids)}`,
    [...ids],
  );
  return new Map(rows.map((r) => [r.id, { text: r.content, headingPath: r.heading_path }]));
}
