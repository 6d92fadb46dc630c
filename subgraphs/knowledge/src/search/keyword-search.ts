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

/** Most words whose pairs the at-least-two pass ORs (n words make n(n-1)/2 pairs). */
const MAX_PAIR_WORDS = 12;

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

/**
 * The relaxed queries (websearch syntax) tried after the all-words one, strictest first: chunks
 * holding at least two of the words (every pair ORed, when there are three to {@link MAX_PAIR_WORDS}
 * words), then chunks holding any of them.
 */
export function relaxedQueries(words: QueryWords): string[] {
  const { wanted } = words;
  const out: string[] = [];
  if (wanted.length >= 3 && wanted.length <= MAX_PAIR_WORDS) {
    const pairs: string[] = [];
    for (let i = 0; i < wanted.length; i++)
      for (let j = i + 1; j < wanted.length; j++) pairs.push(`${wanted[i]} ${wanted[j]}`);
    out.push(pairs.join(' or '));
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
 * natural language rarely has all its words in one passage, so then the chunks holding at least two of
 * its words, then any of them (exclusions still apply), each ranked by `ts_rank` (term frequency;
 * heading words, weight B, count more) after the hits of the stricter passes. Every pass ranks all the
 * chunks it matches, so the loose any-word pass, the costly one on a large tenant, runs only when the
 * stricter ones cannot fill the list (ADR 0032).
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
