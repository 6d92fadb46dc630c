import { type Embedder, normalise } from './embedder.ts';

/** FNV-1a over a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The baseline: character trigrams of the lower-cased, space-padded words, hashed into
 * `dimensions` buckets with a hashed sign (the hashing trick). No model, no network; it matches
 * spellings, not meanings.
 */
export class HashedTrigramEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;

  constructor(dimensions: number) {
    this.dimensions = dimensions;
    this.model = `hashed-trigram-${dimensions}`;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((text) => this.#one(text));
  }

  #one(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
      const padded = ` ${word} `;
      for (let i = 0; i + 3 <= padded.length; i++) {
        const hash = fnv1a(padded.slice(i, i + 3));
        vector[hash % this.dimensions]! += hash & 0x80000000 ? -1 : 1;
      }
    }
    return normalise(vector);
  }
}
