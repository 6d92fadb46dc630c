/**
 * Which passages answer a golden question (ADR 0020): a chunk of the question's source page that
 * contains every required string; when no single chunk of the page holds them all (a chunk boundary
 * or a section break falls between them), any chunk of the page holding at least one of them.
 * Chunks of other pages never count, even when they happen to contain the strings: the question was
 * written from its page, and short strings such as "apt update" occur on many pages.
 */
import { containsNormalised } from './corpus.ts';
import type { GoldenItem } from './golden.ts';

/** A chunk as the platform stores it: its position in its document and its text. */
export interface ChunkText {
  readonly ordinal: number;
  readonly text: string;
}

/** How a question's relevant chunks were chosen. */
export type RelevanceRule = 'all-strings' | 'any-string' | 'none';

/** The ordinals of the source page's chunks that answer `item`, and the rule that chose them. */
export function relevantChunks(
  item: Pick<GoldenItem, 'mustContain'>,
  pageChunks: readonly ChunkText[],
): { ordinals: ReadonlySet<number>; rule: RelevanceRule } {
  const all = pageChunks.filter((c) => item.mustContain.every((s) => containsNormalised(c.text, s)));
  if (all.length > 0) return { ordinals: new Set(all.map((c) => c.ordinal)), rule: 'all-strings' };
  const any = pageChunks.filter((c) => item.mustContain.some((s) => containsNormalised(c.text, s)));
  if (any.length > 0) return { ordinals: new Set(any.map((c) => c.ordinal)), rule: 'any-string' };
  return { ordinals: new Set(), rule: 'none' };
}
