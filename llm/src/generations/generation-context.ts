// The generation a model call belongs to, handed to its span through the OpenTelemetry context: the
// chat and embeddings spans put the generation id on themselves and tell the recorder their span id.
import { type Context, context, createContextKey, type Span } from '@opentelemetry/api';
import { ATTR_GENERATION_ID } from '#kernel/telemetry/attributes.ts';
import type { RedactionPolicy } from './redaction.ts';

/** The generation of the call running in a context. */
export interface GenerationSlot {
  readonly id: string;
  /** The redaction policy for what the call's span says about it (status messages). */
  readonly redaction: RedactionPolicy;
  /** Set by the model call's own span. */
  spanId?: string;
  traceId?: string;
}

const KEY = createContextKey('widgetdc.generation');

/** `ctx` carrying `slot`. */
export function withGenerationSlot(ctx: Context, slot: GenerationSlot): Context {
  return ctx.setValue(KEY, slot);
}

/** The generation of the active context, if a recorder opened one. */
export function activeGenerationSlot(): GenerationSlot | undefined {
  return context.active().getValue(KEY) as GenerationSlot | undefined;
}

/** Marks `span` as the model call of the active generation (its id on the span, the span id on the record). */
export function claimGenerationSpan(span: Span): GenerationSlot | undefined {
  const slot = activeGenerationSlot();
  if (!slot) return undefined;
  slot.spanId = span.spanContext().spanId;
  slot.traceId = span.spanContext().traceId;
  span.setAttribute(ATTR_GENERATION_ID, slot.id);
  return slot;
}
