// Tracing of the WebSocket path with @envelop/opentelemetry: a subscription gets a trace like a
// query. The `subscribe` message is the trace's root (as `POST /graphql` is over HTTP), holding the
// parse and validation spans; @envelop/opentelemetry's `subscription.<name>` span is its child and
// lasts as long as the subscription; every pushed event's execution runs under it.
import { envelop, type Plugin, useEngine } from '@envelop/core';
// The operation's context lives in @envelop/opentelemetry's own map: set by `traceSubscribeMessage`,
// advanced to the operation span by its plugin.
import {
  getCurrentOtelContext as currentContext,
  setCurrentOtelContext,
  useOpenTelemetry,
} from '@envelop/opentelemetry';
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type ExecutionArgs, execute, subscribe } from 'graphql';
import {
  ATTR_GRAPHQL_OPERATION_NAME,
  ATTR_GRAPHQL_OPERATION_TYPE,
  ATTR_GRAPHQL_TRANSPORT,
  ATTR_TENANT_ID,
  ATTR_USER_ID,
} from '#kernel/telemetry/attributes.ts';
import type { GatewayContext } from '../context.ts';
import { GATEWAY_TRACER } from '../pipeline/use-tracing.ts';

/** Name of the root span of one graphql-ws `subscribe` message (its set-up). */
export const SUBSCRIBE_MESSAGE_SPAN = 'graphql-ws subscribe';

/** What graphql-ws runs operations with: envelop's execute and subscribe, traced. */
export interface TracedEngine {
  execute(args: ExecutionArgs): ReturnType<typeof execute> | Promise<unknown>;
  subscribe(args: ExecutionArgs): ReturnType<typeof subscribe> | Promise<unknown>;
}

/**
 * Envelop with graphql-js's execute and the given subscribe (the gateway's event streams;
 * graphql-js's by default), @envelop/opentelemetry and our attributes.
 */
export function createTracedEngine(
  subscribeWith: (args: ExecutionArgs) => ReturnType<typeof subscribe> | Promise<unknown> = subscribe,
): TracedEngine {
  const getEnveloped = envelop({
    plugins: [
      useEngine({ execute, subscribe: subscribeWith as typeof subscribe }),
      // No documents, variables or results on spans: they may hold personal data.
      useOpenTelemetry(
        { resolvers: false, variables: false, result: false, document: false },
        trace.getTracerProvider(),
        SpanKind.SERVER,
        { [ATTR_GRAPHQL_TRANSPORT]: 'websocket' },
        GATEWAY_TRACER,
      ),
      useOperationAttributes(),
    ],
  });
  return {
    execute: (args) => getEnveloped(args.contextValue as object).execute(args) as Promise<unknown>,
    subscribe: (args) => getEnveloped(args.contextValue as object).subscribe(args) as Promise<unknown>,
  };
}

/**
 * Runs a `subscribe` message's set-up (`prepare`) inside its root span and makes that span the parent
 * of the operation span @envelop/opentelemetry starts for `contextValue`. The span ends with the
 * set-up; a refusal marks it failed.
 */
export async function traceSubscribeMessage<T>(
  contextValue: GatewayContext,
  setUp: () => Promise<T>,
  refused: (result: T) => string | undefined,
): Promise<T> {
  const tracer = trace.getTracer(GATEWAY_TRACER);
  const span = tracer.startSpan(SUBSCRIBE_MESSAGE_SPAN, {
    kind: SpanKind.SERVER,
    attributes: {
      [ATTR_GRAPHQL_TRANSPORT]: 'websocket',
      [ATTR_TENANT_ID]: contextValue.identity.tenantId,
      [ATTR_USER_ID]: contextValue.identity.subjectId,
    },
  });
  const ctx = trace.setSpan(context.active(), span);
  setCurrentOtelContext(contextValue, ctx);
  try {
    const result = await context.with(ctx, setUp);
    const why = refused(result);
    if (why) span.setStatus({ code: SpanStatusCode.ERROR, message: why });
    return result;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Our attribute names on @envelop/opentelemetry's operation span, and pushes run under it. */
function useOperationAttributes(): Plugin<object> {
  const annotate = (span: Span | undefined, args: ExecutionArgs) => {
    const operation = args.document.definitions.find(
      (d) =>
        d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName),
    );
    if (!span || !operation || operation.kind !== 'OperationDefinition') return;
    const identity = (args.contextValue as Partial<GatewayContext>).identity;
    span.setAttributes({
      [ATTR_GRAPHQL_OPERATION_TYPE]: operation.operation,
      ...(operation.name ? { [ATTR_GRAPHQL_OPERATION_NAME]: operation.name.value } : {}),
      ...(identity ? { [ATTR_TENANT_ID]: identity.tenantId, [ATTR_USER_ID]: identity.subjectId } : {}),
    });
  };
  const spanOf = (args: ExecutionArgs): { span: Span | undefined; ctx: Context } => {
    const ctx = currentContext(args.contextValue);
    return { span: trace.getSpan(ctx), ctx };
  };
  return {
    onExecute({ args }) {
      annotate(spanOf(args).span, args);
    },
    onSubscribe({ args }) {
      const { span, ctx } = spanOf(args);
      annotate(span, args);
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(withContext(result, ctx));
        },
      };
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterableIterator<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Each `next()` of a subscription's stream runs in `ctx`, so a push's execution is part of its trace. */
function withContext<T>(source: AsyncIterableIterator<T>, ctx: Context): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const wrapped: AsyncIterableIterator<T> = {
    next: (...args) => context.with(ctx, () => iterator.next(...args)),
    return: (value) => iterator.return?.(value) ?? Promise.resolve({ done: true, value }),
    throw: (error) => iterator.throw?.(error) ?? Promise.reject(error),
    [Symbol.asyncIterator]: () => wrapped,
  };
  return wrapped;
}
