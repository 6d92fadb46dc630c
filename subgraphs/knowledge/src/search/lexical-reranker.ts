import { contentTerms } from '../answer/terms.ts';
import type { Reranker } from './reranker.ts';

/** Fused candidates the lexical reranker reads (KNOWLEDGE_RERANK_DEPTH). */
export const DEFAULT_LEXICAL_DEPTH = 100;
/** BM25's term-frequency saturation and length normalisation (the usual Okapi values). */
const K1 = 1.2;
const B = 0.75;
/** A word of the heading path counts this many occurrences in the text (headings name the topic). */
const HEADING_OCCURRENCES = 2;

/** Options of {@link lexicalReranker}. */
export interface LexicalRerankerOptions {
  /** How many fused candidates are reread. */
  readonly depth?: number;
}

/**
 * A reranker without a model: BM25 of the question's content words (stop words dropped, light
 * stemming — the offline answerer's words) over each candidate's heading path and text, with the
 * word statistics of the candidate set itself (a word every candidate holds tells them apart least).
 * The first stage decides which chunks are considered (all-or-any words, and meaning); this stage
 * decides their order, by reading each whole and rewarding the rarer question words it holds, which
 * ts_rank (no word rarity) and the vector list (no words at all) cannot. The order it was given breaks
 * ties, so candidates holding none of the words (a paraphrase found by meaning) keep the fused order,
 * after those that hold some. Measured against blending the two orders by RRF: ADR 0032.
 */
export function lexicalReranker(options: LexicalRerankerOptions = {}): Reranker {
  const depth = options.depth ?? DEFAULT_LEXICAL_DEPTH;
  return {
    name: 'lexical',
    depth,
    rerank: async (query, candidates) => {
      const asked = [...new Set(contentTerms(query))];
      if (asked.length === 0 || candidates.length < 2) return candidates;
      const docs = candidates.map((c) => {
        const terms = contentTerms(c.text);
        const tf = new Map<string, number>();
        for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
        for (const t of new Set(contentTerms(c.headingPath)))
          tf.set(t, (tf.get(t) ?? 0) + HEADING_OCCURRENCES);
        return { tf, length: terms.length };
      });
      const n = docs.length;
      const avg = docs.reduce((sum, d) => sum + d.length, 0) / n || 1;
      const idf = new Map(
        asked.map((t) => {
          const df = docs.filter((d) => d.tf.has(t)).length;
          return [t, Math.log(1 + (n - df + 0.5) / (df + 0.5))];
        }),
      );
      const bm25 = docs.map((d) => {
        let score = 0;
        for (const t of asked) {
          const f = d.tf.get(t) ?? 0;
          if (f > 0) score += (idf.get(t)! * f * (K1 + 1)) / (f + K1 * (1 - B + (B * d.length) / avg));
        }
        return score;
      });
      return candidates
        .map((c, i) => ({ c, i, score: bm25[i]! }))
        .sort((x, y) => y.score - x.score || x.i - y.i)
        .map((e) => e.c);
    },
  };
}
