import type { EntityManager } from '@mikro-orm/postgresql';
import { documentConditions, type SearchFilter } from './filter.ts';

/** A vector hit: the chunk and its cosine distance to the query. */
export interface VectorHit {
  readonly id: string;
  readonly distance: number;
}

/** How the HNSW index is searched. */
export interface HnswOptions {
  /** `hnsw.ef_search`: the candidate list (and so the hits) each index pass yields. */
  readonly efSearch: number;
  /** `hnsw.max_scan_tuples`: where an iterative scan stops looking. */
  readonly maxScanTuples: number;
  /** An exact scan instead of the index (the benchmark's ground truth). */
  readonly exact?: boolean;
}

/**
 * Nearest chunks by cosine distance through the HNSW index. Row-level security (the tenant) and
 * the filter remove most of what one index pass yields, so pgvector 0.8's iterative scan keeps
 * going (`relaxed_order`) until `limit` rows pass or `maxScanTuples` were visited; relaxed order may
 * return them slightly out of order, so the outer query orders them again by distance. Only chunks
 * embedded by `model` are compared (vectors of another model live in another space).
 */
export async function vectorSearch(
  em: EntityManager,
  vector: readonly number[],
  model: string,
  filter: SearchFilter,
  limit: number,
  hnsw: HnswOptions,
): Promise<VectorHit[]> {
  const docs = documentConditions(filter);
  await em.execute(
    `select set_config('hnsw.iterative_scan', 'relaxed_order', true),
            set_config('hnsw.ef_search', ?, true),
            set_config('hnsw.max_scan_tuples', ?, true)${hnsw.exact ? `, set_config('enable_indexscan', 'off', true)` : ''}`,
    [String(hnsw.efSearch), String(hnsw.maxScanTuples)],
  );
  const literal = `[${vector.join(',')}]`;
  const rows = await em.execute<{ id: string; distance: number }[]>(
    `select s.id, s.distance from (
       select c.id, c.embedding <=> ?::vector as distance
         from knowledge.chunks c
         join knowledge.documents d on d.id = c.document_id
        where c.embedding_model = ? and ${docs.sql}
        order by c.embedding <=> ?::vector
        limit ?
     ) s order by s.distance, s.id`,
    [literal, model, ...docs.params, literal, limit],
  );
  if (hnsw.exact) await em.execute(`select set_config('enable_indexscan', 'on', true)`);
  return rows.map((r) => ({ id: r.id, distance: Number(r.distance) }));
}
