/**
 * Asks every golden question: `search` in each mode and `ask`, through the knowledge subgraph's
 * GraphQL API, and judges the answers against the question's relevant chunks and required strings.
 */
import type { KnowledgeConfig } from '../../subgraphs/knowledge/src/config.ts';
import { chunkBlocks } from '../../subgraphs/knowledge/src/ingest/chunker.ts';
import { MediaType } from '../../subgraphs/knowledge/src/ingest/media-types.ts';
import { parseDocument } from '../../subgraphs/knowledge/src/ingest/parse.ts';
import type { CorpusPage } from './corpus.ts';
import type { GoldenItem } from './golden.ts';
import { graphql } from './graphql-client.ts';
import type { IngestedPage } from './ingest-corpus.ts';
import { answerContains, type CitedQuote, CUTOFF, supported } from './metrics.ts';
import { type ChunkText, type RelevanceRule, relevantChunks } from './relevance.ts';

/** The retrieval modes compared side by side. */
export const MODES = ['KEYWORD', 'VECTOR', 'HYBRID'] as const;
/** A retrieval mode of `search`. */
export type Mode = (typeof MODES)[number];

/** One mode's result for one question. */
export interface SearchOutcome {
  /** Relevance of each returned hit, in rank order. */
  readonly ranked: boolean[];
  readonly ms: number;
  readonly error?: string;
}

/** `ask`'s result for one question. */
export interface AskOutcome {
  readonly contains: boolean;
  readonly unanswered: boolean;
  readonly citations: CitedQuote[];
  readonly supportedCitations: number;
  readonly answer: string;
  readonly timings: Record<string, number>;
  readonly ms: number;
  readonly error?: string;
}

/** Everything measured for one golden question. */
export interface ItemOutcome {
  readonly id: string;
  readonly category: GoldenItem['category'];
  readonly paraphrase: boolean;
  readonly source: string;
  readonly relevantCount: number;
  readonly relevance: RelevanceRule;
  readonly search: Record<Mode, SearchOutcome>;
  readonly ask: AskOutcome;
}

const SEARCH = `query ($query: String!, $first: Int, $mode: SearchMode) {
  search(query: $query, first: $first, mode: $mode) { score keywordRank vectorRank chunk { id ordinal document { id } } }
}`;
const ASK = `query ($question: String!) {
  ask(question: $question) { text unanswered model citations { n quote chunk { id text } } timings { stage ms } }
}`;

interface Hit {
  chunk: { id: string; ordinal: number; document: { id: string } };
}
interface Answer {
  text: string;
  unanswered: boolean;
  citations: { quote: string; chunk: { text: string } }[];
  timings: { stage: string; ms: number }[];
}

/**
 * Each page's chunks as the ingestion worker cut them (same parser, same chunker, same options), so
 * that every question's relevant chunks are known in full, not only those retrieved. Fails when a
 * page's count differs from what the platform stored: the relevance judgements would be wrong.
 */
export async function pageChunks(
  pages: readonly CorpusPage[],
  ingested: readonly IngestedPage[],
  config: KnowledgeConfig,
): Promise<Map<string, ChunkText[]>> {
  const out = new Map<string, ChunkText[]>();
  const stored = new Map(ingested.map((p) => [p.file, p]));
  for (const page of pages) {
    const parsed = await parseDocument(Buffer.from(page.html, 'utf8'), MediaType.Html, {
      maxPdfPages: config.maxPdfPages,
      maxDocxUncompressedBytes: config.maxDocxUncompressedBytes,
      maxDocxEntries: config.maxDocxEntries,
    });
    const chunks = chunkBlocks(parsed.blocks, {
      maxTokens: config.chunkTokens,
      overlapTokens: config.chunkOverlapTokens,
    }).map((c) => ({ ordinal: c.ordinal, text: c.content }));
    const count = stored.get(page.file)?.chunkCount;
    if (count !== chunks.length) {
      throw new Error(
        `${page.file}: the platform stored ${count ?? 'no'} chunks, the evaluation cuts ${chunks.length}; ` +
          'it must chunk with the settings the worker used (KNOWLEDGE_CHUNK_TOKENS, KNOWLEDGE_CHUNK_OVERLAP_TOKENS)',
      );
    }
    out.set(page.file, chunks);
  }
  return out;
}

/** Asks `items` one after the other; `progress` gets a line after each. */
export async function evaluate(
  url: string,
  token: () => Promise<string>,
  items: readonly GoldenItem[],
  documents: ReadonlyMap<string, string>,
  chunksOf: ReadonlyMap<string, ChunkText[]>,
  progress: (done: number, item: ItemOutcome) => void,
): Promise<ItemOutcome[]> {
  const out: ItemOutcome[] = [];
  let bearer = await token();
  let issued = Date.now();
  for (const item of items) {
    // Tokens of the dev issuer live 10 minutes; a long run takes a fresh one now and then.
    if (Date.now() - issued > 5 * 60_000) {
      bearer = await token();
      issued = Date.now();
    }
    const documentId = documents.get(item.source);
    if (!documentId) throw new Error(`${item.id}: its source ${item.source} was not ingested`);
    const { ordinals, rule } = relevantChunks(item, chunksOf.get(item.source) ?? []);
    const judge = (hit: Hit) => hit.chunk.document.id === documentId && ordinals.has(hit.chunk.ordinal);
    const search = {} as Record<Mode, SearchOutcome>;
    for (const mode of MODES) {
      const started = performance.now();
      try {
        const data = await graphql<{ search: Hit[] }>(url, bearer, SEARCH, {
          query: item.question,
          first: CUTOFF,
          mode,
        });
        search[mode] = { ranked: data.search.map(judge), ms: performance.now() - started };
      } catch (error) {
        search[mode] = { ranked: [], ms: performance.now() - started, error: (error as Error).message };
      }
    }
    const ask = await askOne(url, bearer, item);
    const outcome: ItemOutcome = {
      id: item.id,
      category: item.category,
      paraphrase: item.paraphrase === true,
      source: item.source,
      relevantCount: ordinals.size,
      relevance: rule,
      search,
      ask,
    };
    out.push(outcome);
    progress(out.length, outcome);
  }
  return out;
}

async function askOne(url: string, bearer: string, item: GoldenItem): Promise<AskOutcome> {
  const started = performance.now();
  try {
    const { ask } = await graphql<{ ask: Answer }>(url, bearer, ASK, { question: item.question });
    const citations = ask.citations.map((c) => ({ quote: c.quote, chunkText: c.chunk.text }));
    return {
      contains: answerContains(ask.text, item.mustContain),
      unanswered: ask.unanswered,
      citations,
      supportedCitations: citations.filter(supported).length,
      answer: ask.text,
      timings: Object.fromEntries(ask.timings.map((t) => [t.stage, t.ms])),
      ms: performance.now() - started,
    };
  } catch (error) {
    return {
      contains: false,
      unanswered: true,
      citations: [],
      supportedCitations: 0,
      answer: '',
      timings: {},
      ms: performance.now() - started,
      error: (error as Error).message,
    };
  }
}
