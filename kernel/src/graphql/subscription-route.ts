import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ExecutionResult, GraphQLError, type GraphQLSchema, subscribe } from 'graphql';
import { requestShapeProblem } from '../http/request-shape.ts';
import { MAX_BODY_BYTES, readBody } from '../http/server.ts';
import { sseEvent } from '../http/sse.ts';
import type { Logger } from '../logger.ts';
import type { RequestContext } from './context.ts';
import { createFormatError } from './errors.ts';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from './limits/operation-limits.ts';
import { useOperationLimits } from './limits/use-operation-limits.ts';
import { createPipeline, isRefusal } from './pipeline/pipeline.ts';

/** Where a subgraph serves its Subscription fields: GraphQL over server-sent events. */
export const STREAM_PATH = '/graphql/stream';

/** What a Subscription field's `subscribe` receives: the request's context and its end. */
export interface StreamContext extends RequestContext {
  /** Aborted when the caller goes away (the gateway closed the stream because its client did). */
  readonly signal: AbortSignal;
}

/** Options of {@link createSubscriptionRoute}. */
export interface SubscriptionRouteOptions {
  /** The subgraph's guarded schema (roles checked in each Subscription field's `subscribe`). */
  schema: GraphQLSchema;
  /** Verifies the caller's token and registration; throws a GraphQLError carrying the HTTP status. */
  context: (headers: IncomingMessage['headers']) => Promise<RequestContext>;
  logger: Logger;
  /** The operation limits (the gateway's and `/graphql`'s); {@link DEFAULT_OPERATION_LIMITS} when absent. */
  limits?: OperationLimits;
}

type Body = { query: string; variables?: Record<string, unknown>; operationName?: string };

/**
 * `POST /graphql/stream` with `{ query, variables, operationName }` of one subscription: the
 * "distinct connections" mode of the GraphQL over SSE protocol, past the same operation limits as
 * `/graphql`. Each result is an `event: next`
 * (formatted as `/graphql` formats errors), the end an `event: complete`. A request that cannot
 * start (token, body, parse, validation, not a subscription) gets its HTTP status and a JSON
 * `errors` body; one refused by its field (roles, arguments) gets `next` with the errors, then
 * `complete`. When the caller closes the response, the context's `signal` aborts and the event
 * source is returned, so whatever the subscription waits on (a model's answer) is cancelled.
 */
export function createSubscriptionRoute(options: SubscriptionRouteOptions) {
  const format = createFormatError(options.logger);
  const pipeline = createPipeline<RequestContext>([
    useOperationLimits({ limits: options.limits ?? DEFAULT_OPERATION_LIMITS, logger: options.logger }),
  ]);
  const formatted = (result: ExecutionResult) => ({
    ...(result.data !== undefined ? { data: result.data } : {}),
    ...(result.errors ? { errors: result.errors.map((e) => format(e.toJSON(), e)) } : {}),
  });
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((error: unknown) => {
      options.logger.error('stream failed', {
        message: error instanceof Error ? error.message : String(error),
      });
      if (!res.headersSent) refuse(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
      else res.end();
    });
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return refuse(res, 405, `Subscribe with POST ${STREAM_PATH}`, 'BAD_REQUEST');
    }
    let ctx: RequestContext;
    try {
      ctx = await options.context(req.headers);
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
      const { http, code } = error.extensions as { http?: { status?: number }; code?: string };
      return refuse(res, http?.status ?? 401, error.message, code ?? 'UNAUTHENTICATED');
    }
    const raw = await readBody(req, MAX_BODY_BYTES);
    if (raw === 'too-large') {
      return refuse(res, 413, `Request body exceeds ${MAX_BODY_BYTES} bytes`, 'PAYLOAD_TOO_LARGE');
    }
    let body: Body;
    try {
      body = JSON.parse(raw) as Body;
    } catch {
      return refuse(res, 400, 'Request body is not valid JSON', 'BAD_REQUEST');
    }
    const problem =
      requestShapeProblem(body) ??
      (typeof body.query !== 'string' ? { message: 'query must be a string' } : undefined);
    if (problem) return refuse(res, 400, problem.message, 'BAD_REQUEST');
    // Parse (token limit), validation and the operation limits: what /graphql applies (zero trust).
    const prepared = await pipeline.prepare(options.schema, body, ctx, 'http');
    if (isRefusal(prepared)) {
      const [first] = prepared;
      const { http, code } = (first?.extensions ?? {}) as { http?: { status?: number }; code?: string };
      return refuse(res, http?.status ?? 400, first?.message ?? 'Invalid operation', code ?? 'BAD_REQUEST');
    }
    if (prepared.operation.operation !== 'subscription') {
      return refuse(
        res,
        400,
        `${STREAM_PATH} serves subscriptions only; send queries to /graphql`,
        'BAD_REQUEST',
      );
    }
    const { document } = prepared;
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new Error('the caller closed the stream'));
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
    res.flushHeaders();
    const contextValue: StreamContext = { ...ctx, signal: controller.signal };
    const events = await subscribe({
      schema: options.schema,
      document,
      contextValue,
      ...(body.variables ? { variableValues: body.variables } : {}),
      ...(body.operationName ? { operationName: body.operationName } : {}),
    });
    const send = (result: ExecutionResult) => {
      if (!controller.signal.aborted) res.write(sseEvent('next', JSON.stringify(formatted(result))));
    };
    if (!(Symbol.asyncIterator in events)) {
      send(events);
    } else {
      const stop = () => void events.return?.();
      controller.signal.addEventListener('abort', stop, { once: true });
      try {
        for await (const result of events) {
          if (controller.signal.aborted) break;
          send(result);
        }
      } catch (error) {
        // The event source failed midway (the model's service went away): the caller hears why.
        send({ errors: [new GraphQLError((error as Error).message, { originalError: error as Error })] });
      } finally {
        controller.signal.removeEventListener('abort', stop);
      }
    }
    if (controller.signal.aborted) return void res.end();
    res.end(sseEvent('complete', ''));
  }
}

function refuse(res: ServerResponse, status: number, message: string, code: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}
