import type { EntityManager } from '@mikro-orm/postgresql';
import { isStopWord } from '../answer/terms.ts';
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

/** A query's words for the relaxed passes: what it asks for, and what it excludes (`-word`). */
export interface QueryWords {
  /** Each word or "quoted phrase" (quotes kept), stop words left out. */
  readonly wanted: readonly string[];
  /** The excluded words and phrases. */
  readonly excluded: readonly string[];
}

/** Most word combinations one relaxed pass ORs (a tier with more is skipped). */
const MAX_COMBINATIONS = 40;

/**
 * The words of a websearch query for the relaxed passes: each word or "quoted phrase" a unit,
 * `-word` kept apart as an exclusion, the operator `or` and stop words dropped (a stop word would
 * turn a pair into a single word). Words stay whole, so the configuration's parser still reads
 * `apt-get` or `/etc/fstab` as it does in the all-words pass.
 */
export function queryWords(query: string): QueryWords {
  const wanted: string[] = [];
  const excluded: string[] = [];
  for (const [, negated, phrase, word] of query.matchAll(/(-?)(?:"([^"]*)"?|([^\s"]+))/g)) {
    const unit = phrase !== undefined ? phrase.trim() : word!.replace(/^-+/, '');
    if (!/[\p{L}\p{N}]/u.test(unit)) continue;
    const bare = unit.toLowerCase().replace(/[^\p{L}\p{N}]+$/u, '');
    if (phrase === undefined && (bare === 'or' || isStopWord(bare))) continue;
    const term = phrase !== undefined && /\s/.test(unit) ? `"${unit}"` : unit;
    const list = negated || word?.startsWith('-') ? excluded : wanted;
    if (!list.includes(term)) list.push(term);
  }
  return { wanted, excluded };
}

/** The combinations of `size` of `items`, in order. */
function combinations<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  const out: T[][] = [];
  for (let i = 0; i + size <= items.length; i++) {
    for (const rest of combinations(items.slice(i + 1), size - 1)) out.push([items[i]!, ...rest]);
  }
  return out;
}

/** How many combinations of `size` out of `n` there are. */
function choose(n: number, size: number): number {
  let c = 1;
  for (let i = 1; i <= size; i++) c = (c * (n - size + i)) / i;
  return c;
}

/**
 * The relaxed queries (websearch syntax) tried after the all-words one, strictest first: chunks
 * holding all but one of the n words, then all but two, … down to two (each tier every combination
 * of that many words ORed; a tier of more than {@link MAX_COMBINATIONS} combinations is skipped), then
 * chunks holding any of them.
 */
export function relaxedQueries(words: QueryWords): string[] {
  const { wanted } = words;
  const out: string[] = [];
  for (let size = wanted.length - 1; size >= 2; size--) {
    if (choose(wanted.length, size) > MAX_COMBINATIONS) continue;
    out.push(
      combinations(wanted, size)
        .map((c) => c.join(' '))
        .join(' or '),
    );
  }
  if (wanted.length >= 2) out.push(wanted.join(' or '));
  return out;
}

/**
 * Full-text search in passes, strictest first, each only while fewer than `limit` chunks were found.
 * First the chunks holding every word: the query parsed by `websearch_to_tsquery` ("quoted phrases",
 * -exclusions, OR) once per text-search configuration of the tenant's searchable documents, each
 * matched against the chunks of that configuration (constant queries, so the planner can combine GIN
 * index scans on `tsv`), ranked by `ts_rank_cd` (cover density, length-normalised). A question in
 * natural language rarely has all its words in one passage, so then the chunks holding all but one of
 * its words, all but two, … then any of them (exclusions still apply), each ranked by `ts_rank` (term frequency;
 * heading words, weight B, count more) after the hits of the stricter passes. Every pass ranks all the
 * chunks it matches, so the looser a pass the costlier on a large tenant: the search stops at the
 * strictest tier that fills the list (ADR 0032).
 */
export async function keywordSearch(
  em: EntityManager,
  query: string,
  filter: SearchFilter,
  limit: number,
): Promise<KeywordHit[]> {
  const configs = await configurations(em, filter);
  if (configs.length === 0) return [];
  const hits = await matching(em, configs, 'all', query, '', filter, limit);
  const words = queryWords(query);
  const found = new Set(hits.map((h) => h.id));
  for (const relaxed of relaxedQueries(words)) {
    if (hits.length >= limit) break;
    const excluded = words.excluded.join(' or ');
    for (const hit of await matching(em, configs, 'any', relaxed, excluded, filter, limit)) {
      if (hits.length < limit && !found.has(hit.id)) {
        found.add(hit.id);
        hits.push(hit);
      }
    }
  }
  return hits;
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
