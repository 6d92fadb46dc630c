import type { EntityManager } from '@mikro-orm/postgresql';
import { documentConditions, type SearchFilter } from './filter.ts';

/** A keyword hit: the chunk and its rank score (ts_rank_cd for all-words matches, ts_rank for any-word ones). */
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

/** A query's words for the any-word pass: what it asks for, and what it excludes (`-word`). */
export interface AnyWords {
  /** The wanted words joined by ` or ` (websearch syntax), or '' when there are none. */
  readonly wanted: string;
  /** The excluded words joined by ` or `, or ''. */
  readonly excluded: string;
}

/**
 * The words of a websearch query for the any-word pass: each word or "quoted phrase" an
 * alternative, `-word` kept apart as an exclusion, the operator `or` dropped. Words stay whole, so
 * the configuration's parser still reads `apt-get` or `/etc/fstab` as it does in the all-words pass.
 */
export function anyWords(query: string): AnyWords {
  const wanted: string[] = [];
  const excluded: string[] = [];
  for (const [, negated, phrase, word] of query.matchAll(/(-?)(?:"([^"]*)"?|([^\s"]+))/g)) {
    const unit = phrase !== undefined ? phrase.trim() : word!.replace(/^-+/, '');
    if (!/[\p{L}\p{N}]/u.test(unit) || (phrase === undefined && unit.toLowerCase() === 'or')) continue;
    const term = phrase !== undefined && /\s/.test(unit) ? `"${unit}"` : unit;
    (negated || word?.startsWith('-') ? excluded : wanted).push(term);
  }
  return { wanted: wanted.join(' or '), excluded: excluded.join(' or ') };
}

/**
 * Full-text search in two passes. First the chunks holding every word: the query parsed by
 * `websearch_to_tsquery` ("quoted phrases", -exclusions, OR) once per text-search configuration of
 * the tenant's searchable documents, each matched against the chunks of that configuration (constant
 * queries, so the planner can combine GIN index scans on `tsv`), ranked by `ts_rank_cd` (cover density,
 * length-normalised). A question in natural language rarely has all its words in one passage, so
 * when that leaves fewer than `limit` hits, a second pass matches chunks holding any of the words
 * (exclusions still apply), ranked by `ts_rank` (term frequency; heading words, weight B, count
 * more) after the all-words hits. Best `limit` first.
 */
export async function keywordSearch(
  em: EntityManager,
  query: string,
  filter: SearchFilter,
  limit: number,
): Promise<KeywordHit[]> {
  const configs = await configurations(em, filter);
  if (configs.length === 0) return [];
  const all = await matching(em, configs, 'all', query, '', filter, limit);
  if (all.length >= limit) return all;
  const words = anyWords(query);
  if (!words.wanted) return all;
  const found = new Set(all.map((h) => h.id));
  const any = await matching(em, configs, 'any', words.wanted, words.excluded, filter, limit);
  return [...all, ...any.filter((h) => !found.has(h.id))].slice(0, limit);
}

/** One pass: the chunks matching `text` (and none of `excluded`) in their own configuration, ranked. */
async function matching(
  em: EntityManager,
  configs: readonly string[],
  pass: 'all' | 'any',
  text: string,
  excluded: string,
  filter: SearchFilter,
  limit: number,
): Promise<KeywordHit[]> {
  const docs = documentConditions(filter);
  const tsquery = (cfg: string) =>
    excluded
      ? `(websearch_to_tsquery(${cfg}, ?) && !!websearch_to_tsquery(${cfg}, ?))`
      : `websearch_to_tsquery(${cfg}, ?)`;
  const args = excluded ? [text, excluded] : [text];
  const configArgs = (cfg: string) => (excluded ? [cfg, cfg, text, cfg, excluded] : [cfg, cfg, text]);
  const matches = configs.map(() => `(c.ts_config = ?::regconfig and c.tsv @@ ${tsquery('?::regconfig')})`);
  const rank = pass === 'all' ? 'ts_rank_cd' : 'ts_rank';
  const rows = await em.execute<{ id: string; rank: number }[]>(
    `select c.id, ${rank}(c.tsv, ${tsquery('c.ts_config')}, 1) as rank
       from knowledge.chunks c
       join knowledge.documents d on d.id = c.document_id
      where (${matches.join(' or ')}) and ${docs.sql}
      order by rank desc, c.id
      limit ?`,
    [...args, ...configs.flatMap(configArgs), ...docs.params, limit],
  );
  return rows.map((r) => ({ id: r.id, rank: Number(r.rank) }));
}
