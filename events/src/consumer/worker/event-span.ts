import { type Context, type Span, SpanKind, trace } from '@opentelemetry/api';
import {
  ATTR_EVENT_ATTEMPT,
  ATTR_EVENT_BATCH_SIZE,
  ATTR_MESSAGING_CONSUMER_GROUP,
  ATTR_MESSAGING_DESTINATION,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TENANT_ID,
} from '#kernel/telemetry/attributes.ts';
import { extractTraceContext } from '#kernel/telemetry/trace-context.ts';
import type { Attempt } from './work-item.ts';

const tracer = trace.getTracer('widgetdc.events');

/** A consumer span of one attempt, continuing its producer's trace (and linked to it). */
export function startEventSpan(
  { event, delivery, attempt }: Attempt,
  batchSize: number,
  where: { system: string; group: string },
): { span: Span; parent: Context } {
  const parent = extractTraceContext(event);
  const remote = trace.getSpanContext(parent);
  const span = tracer.startSpan(
    `process ${event.type}`,
    {
      kind: SpanKind.CONSUMER,
      links: remote ? [{ context: remote }] : [],
      attributes: {
        [ATTR_MESSAGING_SYSTEM]: where.system,
        [ATTR_MESSAGING_DESTINATION]: delivery.stream,
        [ATTR_MESSAGING_MESSAGE_ID]: event.id,
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_CONSUMER_GROUP]: where.group,
        [ATTR_TENANT_ID]: event.tenantId,
        [ATTR_EVENT_ATTEMPT]: attempt,
        [ATTR_EVENT_BATCH_SIZE]: batchSize,
      },
    },
    parent,
  );
  return { span, parent };
}
