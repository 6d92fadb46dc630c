import type { EntityManager } from '@mikro-orm/postgresql';
import { documentConditions, type SearchFilter } from './filter.ts';

/** A keyword hit: the chunk and its ts_rank_cd. */
export interface KeywordHit {
  readonly id: string;
  readonly rank: number;
}

/** The text-search configurations of the searchable documents' languages (one call per distinct language). */
async function configurations(em: EntityManager, filter: SearchFilter): Promise<string[]> {
  const docs = documentConditions(filter);
  const rows = await em.execute<{ cfg: string }[]>(
    `select distinct knowledge.text_search_config(l.language)::text as cfg
       from (select distinct d.language from knowledge.documents d where ${docs.sql}) l`,
    docs.params,
  );
  return rows.map((r) => r.cfg).sort();
}

/**
 * Full-text search: the query parsed by `websearch_to_tsquery` ("quoted phrases", -exclusions,
 * OR) once per text-search configuration of the tenant's searchable documents, each matched
 * against the chunks of that configuration (constant queries, so the planner can combine GIN
 * index scans on `tsv`), ranked by `ts_rank_cd` (cover density, length-normalised), best `limit` first.
 */
export async function keywordSearch(
  em: EntityManager,
  query: string,
  filter: SearchFilter,
  limit: number,
): Promise<KeywordHit[]> {
  const configs = await configurations(em, filter);
  if (configs.length === 0) return [];
  const docs = documentConditions(filter);
  const matches = configs.map(
    () => '(c.ts_config = ?::regconfig and c.tsv @@ websearch_to_tsquery(?::regconfig, ?))',
  );
  const rows = await em.execute<{ id: string; rank: number }[]>(
    `select c.id, ts_rank_cd(c.tsv, websearch_to_tsquery(c.ts_config, ?), 1) as rank
       from knowledge.chunks c
       join knowledge.documents d on d.id = c.document_id
      where (${matches.join(' or ')}) and ${docs.sql}
      order by rank desc, c.id
      limit ?`,
    [query, ...configs.flatMap((cfg) => [cfg, cfg, query]), ...docs.params, limit],
  );
  return rows.map((r) => ({ id: r.id, rank: Number(r.rank) }));
}
