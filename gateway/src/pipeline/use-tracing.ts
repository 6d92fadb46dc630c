import { context as otelContext, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Identity } from '#kernel/auth/identity.ts';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';
import {
  ATTR_GRAPHQL_OPERATION_NAME,
  ATTR_GRAPHQL_OPERATION_TYPE,
  ATTR_GRAPHQL_TRANSPORT,
  ATTR_TENANT_ID,
  ATTR_USER_ID,
} from '#kernel/telemetry/attributes.ts';

/** Name of the gateway's tracer. */
export const GATEWAY_TRACER = 'widgetdc.gateway';

/** The operation span of each HTTP request's context, for {@link inOperationSpan}. */
const operationSpans = new WeakMap<object, Span>();

/**
 * One span per HTTP operation (`query tasks`), with the operation's type and name, the transport and
 * the caller's tenant; errors mark it failed. It is a child of the HTTP server span and the parent of
 * @apollo/gateway's `gateway.request` (see {@link inOperationSpan}). Over WebSocket the operation span
 * is @envelop/opentelemetry's (`subscriptions/subscription-tracing.ts`): a second one here would
 * duplicate it.
 */
export function useTracing<TContext extends { identity: Identity }>(): OperationPlugin<TContext> {
  const tracer = trace.getTracer(GATEWAY_TRACER);
  return {
    name: 'tracing',
    onExecute({ operation, context, transport }) {
      if (transport === 'websocket') return undefined;
      const name = operation.name?.value;
      const span = tracer.startSpan(name ? `${operation.operation} ${name}` : operation.operation, {
        attributes: {
          [ATTR_GRAPHQL_OPERATION_TYPE]: operation.operation,
          ...(name ? { [ATTR_GRAPHQL_OPERATION_NAME]: name } : {}),
          [ATTR_GRAPHQL_TRANSPORT]: transport,
          [ATTR_TENANT_ID]: context.identity.tenantId,
          [ATTR_USER_ID]: context.identity.subjectId,
        },
      });
      operationSpans.set(context, span);
      return (errors) => {
        if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message });
        span.end();
      };
    },
  };
}

/**
 * Runs `fn` (the gateway's executor) inside the operation span of `contextValue`, so the planner's and
 * fetchers' spans are its children rather than its siblings.
 */
export function inOperationSpan<T>(contextValue: object, fn: () => T): T {
  const span = operationSpans.get(contextValue);
  return span ? otelContext.with(trace.setSpan(otelContext.active(), span), fn) : fn();
}
