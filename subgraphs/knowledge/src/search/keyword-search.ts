import type { EntityManager } from '@mikro-orm/postgresql';
import { documentConditions, type SearchFilter } from './filter.ts';

/** A keyword hit: the chunk and its ts_rank_cd. */
export interface KeywordHit {
  readonly id: string;
  readonly rank: number;
}

/**
 * Full-text search: the query parsed by `websearch_to_tsquery` ("quoted phrases", -exclusions,
 * OR) once per text-search configuration of the tenant's searchable documents, each matched
 * against the chunks of that configuration through the GIN index on `tsv`, ranked by
 * `ts_rank_cd` (cover density; length-normalised) — best `limit` first.
 */
export async function keywordSearch(
  em: EntityManager,
  query: string,
  filter: SearchFilter,
  limit: number,
): Promise<KeywordHit[]> {
  const docs = documentConditions(filter);
  const rows = await em.execute<{ id: string; rank: number }[]>(
    `with configs as materialized (
       select distinct knowledge.text_search_config(d.language) as cfg from knowledge.documents d where ${docs.sql}
     ), q as materialized (
       select cfg, websearch_to_tsquery(cfg, ?) as query from configs
     )
     select c.id, ts_rank_cd(c.tsv, q.query, 1) as rank
       from q
       join knowledge.chunks c on c.ts_config = q.cfg and c.tsv @@ q.query
       join knowledge.documents d on d.id = c.document_id
      where ${docs.sql}
      order by rank desc, c.id
      limit ?`,
    [...docs.params, query, ...docs.params, limit],
  );
  return rows.map((r) => ({ id: r.id, rank: Number(r.rank) }));
}
