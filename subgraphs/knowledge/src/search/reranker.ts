import type { FusedHit } from './fusion.ts';

/** A fused hit with the text a reranker reads. */
export interface RerankCandidate extends FusedHit {
  readonly text: string;
  readonly headingPath: string;
}

/**
 * Reorders the best fused candidates (a cross-encoder, an LLM judge…). `depth` is how many fused
 * candidates it is shown; it returns them best first (it may drop some, never add).
 */
export interface Reranker {
  readonly name: string;
  readonly depth: number;
  rerank(query: string, candidates: readonly RerankCandidate[]): Promise<readonly RerankCandidate[]>;
}

/** The default: keeps the fused order and sees only the hits that are returned. */
export const identityReranker: Reranker = {
  name: 'identity',
  depth: 0,
  rerank: async (_query, candidates) => candidates,
};
