import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Identity } from '#kernel/auth/identity.ts';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';
import {
  ATTR_GRAPHQL_OPERATION_NAME,
  ATTR_GRAPHQL_OPERATION_TYPE,
  ATTR_GRAPHQL_TRANSPORT,
  ATTR_TENANT_ID,
} from '#kernel/telemetry/attributes.ts';

/** Name of the gateway's tracer. */
export const GATEWAY_TRACER = 'widgetdc.gateway';

/**
 * One span per operation (`query tasks`, `subscription onTask`), over HTTP and WebSocket alike, with
 * the operation's type and name, the transport and the caller's tenant; errors mark it failed. A
 * subscription's span covers its set-up, not its whole life.
 */
export function useTracing<TContext extends { identity: Identity }>(): OperationPlugin<TContext> {
  const tracer = trace.getTracer(GATEWAY_TRACER);
  return {
    name: 'tracing',
    onExecute({ operation, context, transport }) {
      const name = operation.name?.value;
      const span = tracer.startSpan(name ? `${operation.operation} ${name}` : operation.operation, {
        attributes: {
          [ATTR_GRAPHQL_OPERATION_TYPE]: operation.operation,
          ...(name ? { [ATTR_GRAPHQL_OPERATION_NAME]: name } : {}),
          [ATTR_GRAPHQL_TRANSPORT]: transport,
          [ATTR_TENANT_ID]: context.identity.tenantId,
        },
      });
      return (errors) => {
        if (errors?.length) span.setStatus({ code: SpanStatusCode.ERROR, message: errors[0]?.message });
        span.end();
      };
    },
  };
}
