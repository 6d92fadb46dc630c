// One OpenTelemetry span per model call, named and attributed by the GenAI semantic conventions
// (`chat <model>`), so a trace shows where an answer spent its time and what it cost; the HTTP
// requests of its attempts (undici instrumentation) are its children.
import { type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_LLM_ATTEMPTS,
  ATTR_LLM_TIME_TO_FIRST_TOKEN_MS,
} from '#kernel/telemetry/attributes.ts';
import type { ChatRequest, ChatResult } from './chat.ts';
import { LlmError } from './errors.ts';
import { claimGenerationSpan } from './generations/generation-context.ts';

const tracer = trace.getTracer('widgetdc.llm');

/** What the span says about the call before it runs. */
export interface ChatSpanInfo {
  provider: string;
  /** The model or deployment asked for. */
  model: string;
  request: ChatRequest;
}

/** Runs `call` inside a `chat <model>` client span; `firstToken` marks when streamed text began. */
export function withChatSpan(
  info: ChatSpanInfo,
  call: (firstToken: () => void) => Promise<ChatResult>,
): Promise<ChatResult> {
  return tracer.startActiveSpan(
    `chat ${info.model}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_GEN_AI_OPERATION_NAME]: 'chat',
        [ATTR_GEN_AI_PROVIDER_NAME]: info.provider,
        [ATTR_GEN_AI_REQUEST_MODEL]: info.model,
        ...(info.request.maxTokens !== undefined
          ? { [ATTR_GEN_AI_REQUEST_MAX_TOKENS]: info.request.maxTokens }
          : {}),
        ...(info.request.temperature !== undefined
          ? { [ATTR_GEN_AI_REQUEST_TEMPERATURE]: info.request.temperature }
          : {}),
      },
    },
    async (span: Span) => {
      // The recorder's generation, when one is open: its id on this span, this span's id on the record.
      const generation = claimGenerationSpan(span);
      const started = performance.now();
      let first = false;
      const firstToken = () => {
        if (first) return;
        first = true;
        span.setAttribute(ATTR_LLM_TIME_TO_FIRST_TOKEN_MS, Math.round(performance.now() - started));
      };
      try {
        const result = await call(firstToken);
        span.setAttributes({
          [ATTR_GEN_AI_RESPONSE_MODEL]: result.model,
          [ATTR_LLM_ATTEMPTS]: result.attempts,
          ...(result.finishReason ? { [ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: [result.finishReason] } : {}),
          ...(result.usage
            ? {
                [ATTR_GEN_AI_USAGE_INPUT_TOKENS]: result.usage.promptTokens,
                [ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: result.usage.completionTokens,
              }
            : {}),
        });
        return result;
      } catch (error) {
        const kind = error instanceof LlmError ? error.kind : 'other';
        span.setAttribute(ATTR_ERROR_TYPE, kind);
        if (error instanceof LlmError && error.details.attempts !== undefined) {
          span.setAttribute(ATTR_LLM_ATTEMPTS, error.details.attempts as number);
        }
        const message = (error as Error).message;
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: generation ? generation.redaction.redact(message) : message,
        });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
