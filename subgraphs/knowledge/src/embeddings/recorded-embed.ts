// An embedding call as a recorded generation (ADR 0037): the query of a search, the chunks of an
// ingestion. Tokens are the chunker's count (the embedder reports none); inputs are stored redacted,
// all of them for a query, a sample for a document's chunks.
import type { RecordingContext } from '#llm/generations/recorded-chat.ts';
import { countTokens } from '../ingest/tokens.ts';
import type { Embedder } from './embedder.ts';

/** Inputs stored with an embedding generation; the count says how many there were. */
export const STORED_EMBEDDING_INPUTS = 3;
/** Longest stored input, in characters. */
const MAX_STORED_INPUT_CHARS = 2000;

/** `embedder.embed(texts)`, recorded in `recording` (or plainly when there is none). */
export function recordedEmbed(
  recording: RecordingContext | undefined,
  embedder: Embedder,
  texts: readonly string[],
): Promise<number[][]> {
  if (!recording) return embedder.embed(texts);
  const tokens = texts.reduce((sum, t) => sum + countTokens(t), 0);
  return recording.recorder.observe(
    recording.scope,
    {
      caller: recording.caller,
      operation: 'embeddings',
      provider: embedder.provider ?? 'unknown',
      model: embedder.model.replace(/^[a-z]+:/, ''),
      input: {
        count: texts.length,
        inputs: texts.slice(0, STORED_EMBEDDING_INPUTS).map((t) => t.slice(0, MAX_STORED_INPUT_CHARS)),
      },
      estimatedTokens: tokens,
    },
    () => embedder.embed(texts),
    () => ({ inputTokens: tokens, outputTokens: 0 }),
  );
}
