import type { Block } from './blocks.ts';
import { countTokens, splitByTokens } from './tokens.ts';

/** Default chunk size, in tokens ({@link countTokens}). */
export const DEFAULT_CHUNK_TOKENS = 256;
/** Default overlap between consecutive chunks of one section, in tokens. */
export const DEFAULT_CHUNK_OVERLAP_TOKENS = 32;
/** Separator of a heading path's levels. */
export const HEADING_SEPARATOR = ' › ';

/** Chunk size and overlap, in tokens. */
export interface ChunkOptions {
  readonly maxTokens: number;
  readonly overlapTokens: number;
}

/** A passage to embed, with where it sits in the document. */
export interface DraftChunk {
  readonly ordinal: number;
  readonly content: string;
  /** The headings above the passage, outermost first, joined by ` › ` ("" before any heading). */
  readonly headingPath: string;
  /** Page the passage starts on (PDF), else null. */
  readonly page: number | null;
  readonly tokenCount: number;
}

/** What a passage's embedding is computed from: its heading path gives it context. */
export function embeddingText(chunk: Pick<DraftChunk, 'headingPath' | 'content'>): string {
  return chunk.headingPath ? `${chunk.headingPath}\n${chunk.content}` : chunk.content;
}

interface Unit {
  text: string;
  tokens: number;
  page: number | null;
  /** How the unit joins the previous one of its chunk. */
  joiner: string;
}

/**
 * Cuts blocks into chunks that follow the structure: a heading closes the running chunk and
 * starts a new section; blocks of one section are packed together up to `maxTokens`; a block too big
 * for one chunk is split at its own seams (lines of a list, table or code block; sentences of a
 * paragraph; tokens as a last resort). Consecutive chunks of one section share up to
 * `overlapTokens` of trailing units. Deterministic: the same blocks and options give the same chunks.
 */
export function chunkBlocks(blocks: readonly Block[], options: ChunkOptions): DraftChunk[] {
  const { maxTokens, overlapTokens } = validOptions(options);
  const chunks: DraftChunk[] = [];
  const path: string[] = [];
  let units: Unit[] = [];
  let size = 0;
  let carried = 0;

  const emit = () => {
    if (units.length > carried) {
      const content = units.map((u, i) => (i === 0 ? u.text : u.joiner + u.text)).join('');
      chunks.push({
        ordinal: chunks.length,
        content,
        headingPath: path.filter(Boolean).join(HEADING_SEPARATOR),
        page: units[0]!.page,
        tokenCount: size,
      });
    }
  };
  const startNext = (overlap: boolean) => {
    const keep: Unit[] = [];
    let kept = 0;
    if (overlap) {
      for (let i = units.length - 1; i >= 0; i--) {
        const u = units[i]!;
        if (kept + u.tokens > overlapTokens) break;
        keep.unshift(u);
        kept += u.tokens;
      }
    }
    units = keep;
    size = kept;
    carried = keep.length;
  };
  const add = (unit: Unit) => {
    if (size + unit.tokens > maxTokens && units.length > carried) {
      emit();
      startNext(true);
      // The overlap must leave room for the unit.
      while (units.length > 0 && size + unit.tokens > maxTokens) {
        size -= units.shift()!.tokens;
        carried--;
      }
    }
    units.push(unit);
    size += unit.tokens;
  };

  for (const block of blocks) {
    if (block.kind === 'heading') {
      emit();
      startNext(false);
      const level = Math.min(6, Math.max(1, block.level ?? 1));
      path.length = level - 1;
      path[level - 1] = block.text.replace(/\s+/g, ' ').trim();
      continue;
    }
    const page = block.page ?? null;
    const pieces = unitsOf(block, maxTokens);
    for (const [i, text] of pieces.entries()) {
      const lineBased = block.kind !== 'paragraph';
      add({
        text,
        tokens: countTokens(text),
        page,
        joiner: i === 0 ? '\n\n' : lineBased ? '\n' : ' ',
      });
    }
  }
  emit();
  return chunks;
}

/** A block's pieces, each at most `max` tokens: the whole block when it fits, else its seams. */
function unitsOf(block: Block, max: number): string[] {
  const text = block.text.trim();
  if (!text) return [];
  if (countTokens(text) <= max) return [text];
  const seams =
    block.kind === 'paragraph'
      ? text.split(/(?<=[.!?。])\s+(?=\S)/u)
      : text.split('\n').filter((line) => line.trim() !== '');
  return seams.flatMap((seam) => (countTokens(seam) <= max ? [seam] : splitByTokens(seam, max)));
}

function validOptions(options: ChunkOptions): ChunkOptions {
  const { maxTokens, overlapTokens } = options;
  if (!Number.isInteger(maxTokens) || maxTokens < 16) {
    throw new RangeError(`chunk size must be a whole number of at least 16 tokens (got ${maxTokens})`);
  }
  if (!Number.isInteger(overlapTokens) || overlapTokens < 0 || overlapTokens >= maxTokens / 2) {
    throw new RangeError(
      `chunk overlap must be a whole number from 0 to under half the chunk size (got ${overlapTokens})`,
    );
  }
  return options;
}
