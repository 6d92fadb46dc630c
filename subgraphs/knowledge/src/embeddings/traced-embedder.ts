// Every embedding call is a GenAI client span (OpenTelemetry GenAI semantic conventions): operation
// `embeddings`, provider, model, vector size and input count; a failure marks it with `error.type`.
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_EMBEDDINGS_INPUT_COUNT,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
} from '#kernel/telemetry/attributes.ts';
import { claimGenerationSpan } from '#llm/generations/generation-context.ts';
import type { Embedder } from './embedder.ts';

const tracer = trace.getTracer('widgetdc.knowledge');

/** `embedder` with a span `embeddings <model>` around each `embed` call; `provider` as the conventions name it. */
export function tracedEmbedder(embedder: Embedder, provider: string): Embedder {
  // `openai:text-embedding-3-small` → `text-embedding-3-small`: the model as the provider calls it.
  const model = embedder.model.replace(/^[a-z]+:/, '');
  return {
    model: embedder.model,
    provider,
    dimensions: embedder.dimensions,
    ...(embedder.close ? { close: () => embedder.close!() } : {}),
    embed(texts) {
      return tracer.startActiveSpan(
        `embeddings ${model}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            [ATTR_GEN_AI_OPERATION_NAME]: 'embeddings',
            [ATTR_GEN_AI_PROVIDER_NAME]: provider,
            [ATTR_GEN_AI_REQUEST_MODEL]: model,
            [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: embedder.dimensions,
            [ATTR_EMBEDDINGS_INPUT_COUNT]: texts.length,
          },
        },
        async (span) => {
          // The recorder's generation, when one is open (ADR 0037).
          claimGenerationSpan(span);
          try {
            return await embedder.embed(texts);
          } catch (error) {
            span.setAttribute(ATTR_ERROR_TYPE, error instanceof Error ? error.name : 'Error');
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: error instanceof Error ? error.message : String(error),
            });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}
