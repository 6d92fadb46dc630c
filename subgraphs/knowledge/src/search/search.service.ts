import type { TenantScope } from '#kernel/db/tenant-context.ts';
import { ATTR_SEARCH_HITS, ATTR_SEARCH_MODE } from '#kernel/telemetry/attributes.ts';
import type { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import type { GenerationCaller } from '#llm/generations/record.ts';
import type { SearchConfig } from '../config.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { recordedEmbed } from '../embeddings/recorded-embed.ts';
import { assertDocumentsExist, type SearchFilter } from './filter.ts';
import { type FusedHit, fuse } from './fusion.ts';
import { keywordSearch } from './keyword-search.ts';
import { loadCandidateTexts, loadPassages, type Passage } from './passages.ts';
import { identityReranker, type Reranker } from './reranker.ts';
import { StageClock } from './stages.ts';
import { vectorSearch } from './vector-search.ts';

/** How a search retrieves. */
export type SearchMode = 'HYBRID' | 'KEYWORD' | 'VECTOR';

/** A checked search request. */
export interface SearchRequest {
  readonly query: string;
  readonly first: number;
  readonly filter: SearchFilter;
  readonly mode: SearchMode;
}

/** One hit as `SearchHit` shows it. */
export interface SearchHitView extends Passage, Omit<FusedHit, 'id'> {}

/** What a search needs. */
export interface SearchServiceOptions {
  readonly embedder: Embedder;
  readonly config: SearchConfig;
  readonly reranker?: Reranker;
  /** Records the query's embedding as a generation of the caller (ADR 0037). */
  readonly recorder?: GenerationRecorder;
}

/**
 * Hybrid retrieval: the query's embedding (by the embedder the chunks were embedded with), then, in
 * one tenant transaction, the keyword list and the vector list, fused by reciprocal rank, reranked
 * (identity by default) and loaded with their documents and snippets. Each stage is a span and a
 * timing on the clock.
 */
export class SearchService {
  readonly #embedder: Embedder;
  readonly #config: SearchConfig;
  readonly #reranker: Reranker;
  readonly #recorder: GenerationRecorder | undefined;

  constructor(options: SearchServiceOptions) {
    this.#embedder = options.embedder;
    this.#config = options.config;
    this.#reranker = options.reranker ?? identityReranker;
    this.#recorder = options.recorder;
  }

  /** The embedder queries are embedded with. */
  get embedder(): Embedder {
    return this.#embedder;
  }

  /**
   * Runs `request` in the caller's tenant; stages are timed on `clock`. With `caller` (the verified
   * identity's), the query's embedding is recorded as its generation and checked against its budgets.
   */
  async search(
    scope: TenantScope,
    request: SearchRequest,
    clock = new StageClock(),
    caller?: GenerationCaller,
  ): Promise<SearchHitView[]> {
    const { query, first, filter, mode } = request;
    const limit = Math.max(this.#config.candidates, first);
    const recording =
      this.#recorder && caller
        ? { recorder: this.#recorder, scope, caller: { ...caller, purpose: 'search' } }
        : undefined;
    const vector =
      mode === 'KEYWORD'
        ? undefined
        : await clock.run(
            'embedding',
            async () => (await recordedEmbed(recording, this.#embedder, [query]))[0]!,
          );
    return scope.run(async (em) => {
      await assertDocumentsExist(em, filter);
      const keyword =
        mode === 'VECTOR'
          ? []
          : await clock.run('keyword', async (span) => {
              const hits = await keywordSearch(em, query, filter, limit);
              span.setAttribute(ATTR_SEARCH_HITS, hits.length);
              return hits;
            });
      const nearest = !vector
        ? []
        : await clock.run('vector', async (span) => {
            const hits = await vectorSearch(em, vector, this.#embedder.model, filter, limit, {
              efSearch: this.#config.efSearch,
              maxScanTuples: this.#config.maxScanTuples,
            });
            span.setAttribute(ATTR_SEARCH_HITS, hits.length);
            return hits;
          });
      const depth = Math.max(first, this.#reranker.depth);
      const fused = await clock.run('fusion', (span) => {
        span.setAttribute(ATTR_SEARCH_MODE, mode.toLowerCase());
        return fuse(keyword, nearest, {
          k: this.#config.rrfK,
          keywordWeight: this.#config.keywordWeight,
          vectorWeight: this.#config.vectorWeight,
        }).slice(0, depth);
      });
      let ranked: readonly FusedHit[] = fused;
      if (this.#reranker !== identityReranker && fused.length > 1) {
        ranked = await clock.run('rerank', async () => {
          const texts = await loadCandidateTexts(
            em,
            fused.map((h) => h.id),
          );
          const candidates = fused.flatMap((h) => {
            const text = texts.get(h.id);
            return text ? [{ ...h, ...text }] : [];
          });
          return this.#reranker.rerank(query, candidates);
        });
      }
      const top = ranked.slice(0, first);
      const passages = await clock.run('passages', () =>
        loadPassages(
          em,
          top.map((h) => h.id),
          query,
        ),
      );
      return top
        .filter((h) => passages.has(h.id))
        .map(({ id, score, keywordRank, vectorRank }) => ({
          ...passages.get(id)!,
          score,
          keywordRank,
          vectorRank,
        }));
    });
  }
}
