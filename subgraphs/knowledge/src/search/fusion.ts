/** A hit of one retrieval method, best first. */
export interface MethodHit {
  readonly id: string;
}

/** A fused hit: its RRF score and its 1-based rank in each method's list (null when absent). */
export interface FusedHit {
  readonly id: string;
  readonly score: number;
  readonly keywordRank: number | null;
  readonly vectorRank: number | null;
}

/** How lists are fused: score = Σ weight / (k + rank). */
export interface FusionOptions {
  readonly k: number;
  readonly keywordWeight: number;
  readonly vectorWeight: number;
}

/**
 * Reciprocal-rank fusion (Cormack et al., 2009) of the keyword and the vector list: ranks only,
 * so the methods' incomparable scores (ts_rank_cd, cosine distance) never meet. Ties go to the
 * better single rank, then the id, so the order is deterministic.
 */
export function fuse(
  keyword: readonly MethodHit[],
  vector: readonly MethodHit[],
  options: FusionOptions,
): FusedHit[] {
  const hits = new Map<string, { score: number; keywordRank: number | null; vectorRank: number | null }>();
  const entry = (id: string) => {
    const found = hits.get(id);
    if (found) return found;
    const hit = { score: 0, keywordRank: null as number | null, vectorRank: null as number | null };
    hits.set(id, hit);
    return hit;
  };
  keyword.forEach(({ id }, i) => {
    const hit = entry(id);
    if (hit.keywordRank !== null) return;
    hit.keywordRank = i + 1;
    hit.score += options.keywordWeight / (options.k + i + 1);
  });
  vector.forEach(({ id }, i) => {
    const hit = entry(id);
    if (hit.vectorRank !== null) return;
    hit.vectorRank = i + 1;
    hit.score += options.vectorWeight / (options.k + i + 1);
  });
  const best = (h: { keywordRank: number | null; vectorRank: number | null }) =>
    Math.min(h.keywordRank ?? Infinity, h.vectorRank ?? Infinity);
  return [...hits.entries()]
    .map(([id, h]) => ({ id, ...h }))
    .sort((a, b) => b.score - a.score || best(a) - best(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
