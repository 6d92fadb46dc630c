/** Turns passages into vectors; every implementation returns unit-length vectors of `dimensions`. */
export interface Embedder {
  /** Recorded on every chunk it embeds, e.g. `use-lite-512`, `openai:text-embedding-3-small`. */
  readonly model: string;
  readonly dimensions: number;
  /** `gen_ai.provider.name` (`openai`, `widgetdc.hashed`, …), set by the traced wrapper (createEmbedder). */
  readonly provider?: string;
  /** One vector per text, in order. */
  embed(texts: readonly string[]): Promise<number[][]>;
  close?(): Promise<void>;
}

/** A failure of an embedding provider (unreachable, refused, malformed answer); worth a retry later. */
export class EmbeddingError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

/** Scales a vector to unit length (cosine distance then equals 1 − dot product). */
export function normalise(vector: number[]): number[] {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm === 0 ? vector : vector.map((x) => x / norm);
}
