import type { IncomingMessage, Server } from 'node:http';
import type { ExecutionArgs, GraphQLError, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Context } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer } from 'ws';
import { AppError, AuthenticationError } from '#kernel/errors.ts';
import { requestIdOf } from '#kernel/graphql/context.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';
import type { ExecutionEnd } from '#kernel/graphql/pipeline/operation-plugin.ts';
import { isRefusal, type OperationPipeline } from '#kernel/graphql/pipeline/pipeline.ts';
import type { Logger } from '#kernel/logger.ts';
import type { GatewayContext } from '../context.ts';
import type { LivePubSub } from '../live/live-pubsub.ts';
import { TenantConnections, tooManySubscriptions } from './connection-caps.ts';
import { type SubscriptionContext, subscribeToEvents } from './event-stream.ts';
import type { EventExecutor } from './federated-events.ts';
import type { SubgraphStreams } from './subgraph-stream.ts';
import type { SubscriptionLimits } from './subscription-limits.ts';
import { createTracedEngine, traceSubscribeMessage } from './subscription-tracing.ts';
import type { TenantCheck } from './tenant-probe.ts';

/** Close codes of the gateway's WebSocket endpoint (graphql-ws reserves 4400-4499 for such refusals). */
export const CloseCodes = {
  /** No, a malformed, a forged or an expired token at connection time (fatal for graphql-ws clients). */
  Unauthorized: 4401,
  /**
   * The connection's token expired while it was open. Not one of the codes graphql-ws clients treat
   * as fatal: they reconnect (re-evaluating `connectionParams` when it is a function, so a fresh
   * token is sent) and re-subscribe, and each subscription resumes where it stopped (ADR 0021).
   */
  TokenExpired: 4498,
  /** A valid token whose tenant is not registered. */
  Forbidden: 4403,
  /** The tenant holds as many connections as it may (reason `TOO_MANY_CONNECTIONS: …`); fatal for graphql-ws clients. */
  TooManyConnections: 4429,
  /** The identity provider or the tenant directory cannot be reached. */
  Unavailable: 4503,
  Internal: 4500,
} as const;

/** Reason sent with {@link CloseCodes.TokenExpired} when a connection's token expires. */
export const TOKEN_EXPIRED_REASON = 'token expired';

/** Longest delay a Node timer accepts; a token living longer is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link startSubscriptionServer}. */
export interface SubscriptionServerOptions {
  server: Server;
  path: string;
  /** The graph's API schema (the one clients introspect), once the gateway has loaded it. */
  apiSchema: () => GraphQLSchema;
  /** Runs each event through the subscription's federated plan. */
  events: EventExecutor;
  /** Relays the subscription fields other subgraphs serve themselves (askStream). */
  streams: SubgraphStreams;
  /** The gateway's one operation pipeline (authentication, limits, roles, tracing). */
  pipeline: OperationPipeline<GatewayContext>;
  tenantCheck: TenantCheck;
  live: LivePubSub;
  limits: SubscriptionLimits;
  /** Largest WebSocket message accepted. */
  maxPayloadBytes: number;
  /** Refuses upgrades from browser origins the gateway does not serve (cors.ts). */
  allowOrigin?: (req: IncomingMessage) => boolean;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  logger: Logger;
}

/** The running WebSocket endpoint. */
export interface RunningSubscriptionServer {
  /** Closes every connection (1001 going away) and stops accepting new ones. */
  close(): Promise<void>;
}

type Ctx = Context<Record<string, unknown>, Extra>;

/**
 * Serves subscriptions over graphql-ws on the gateway's HTTP server. `connection_init` must carry
 * `{ authorization: 'Bearer …' }`, authenticated by the same pipeline as an HTTP request, and the
 * tenant must be registered and below its connection cap. Each `subscribe` passes the pipeline
 * (limits, roles, tracing) and the per-connection cap. The connection is closed with 4498
 * `token expired` (retryable) when the token's `exp` passes.
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): RunningSubscriptionServer {
  const { pipeline, logger } = options;
  const contexts = new WeakMap<Ctx, GatewayContext>();
  const executions = new WeakMap<Ctx, Map<string, ExecutionEnd>>();
  const tenants = new TenantConnections(options.limits.maxConnectionsPerTenant);
  // Subscriptions stream the gateway's live events (event-stream.ts), traced like queries.
  const engine = createTracedEngine(subscribeToEvents);
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path,
    maxPayload: options.maxPayloadBytes,
    ...(options.allowOrigin
      ? {
          verifyClient: (
            info: { req: IncomingMessage },
            done: (ok: boolean, code?: number, message?: string) => void,
          ) => {
            if (options.allowOrigin!(info.req)) return done(true);
            logger.info('websocket refused: origin not allowed', { origin: info.req.headers.origin });
            done(false, 403, 'Origin not allowed: add it to CORS_ORIGINS');
          },
        }
      : {}),
  });
  wss.on('error', (error) => logger.error('websocket server error', { message: error.message }));
  // Apollo strips `extensions.http` itself over HTTP; here it is done by hand. The request id is
  // the connection's (its upgrade request's), as its operations' subgraph calls carry it.
  const format = (ctx: Ctx, errors: readonly GraphQLError[]) => {
    pipeline.errors(errors);
    const formatted = errors.map((e) => {
      const one = options.formatError(e.toJSON(), e);
      const { http: _http, ...extensions } = one.extensions ?? {};
      return { ...one, extensions };
    });
    return pipeline.formatted(formatted, { requestId: connectionRequestId(ctx) });
  };
  const requestIds = new WeakMap<Ctx, string>();
  const connectionRequestId = (ctx: Ctx) => {
    const known = contexts.get(ctx)?.requestId ?? requestIds.get(ctx);
    if (known) return known;
    const id = requestIdOf(ctx.extra.request.headers);
    requestIds.set(ctx, id);
    return id;
  };

  const disposable = useServer<Record<string, unknown>, Record<PropertyKey, never>>(
    {
      schema: () => options.apiSchema(),
      isProd: true,
      // @envelop/opentelemetry traces every operation (subscription-tracing.ts).
      execute: engine.execute as never,
      subscribe: engine.subscribe as never,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        try {
          const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
          if (typeof raw !== 'string' || raw === '') {
            throw new AuthenticationError(
              'Missing access token: send { "authorization": "Bearer <token>" } in connection_init',
            );
          }
          const context = await pipeline.authenticate({
            authorization: raw,
            requestId: requestIdOf(ctx.extra.request.headers),
          });
          await options.tenantCheck(context.authorization);
          const release = tenants.admit(context.identity.tenantId);
          if (typeof release === 'string') {
            logger.info('connection refused', {
              code: 'TOO_MANY_CONNECTIONS',
              tenantId: context.identity.tenantId,
            });
            socket.close(CloseCodes.TooManyConnections, closeReason(release));
            return false;
          }
          socket.once('close', release);
          contexts.set(ctx, context);
          closeWhenExpired(socket, decodeJwt(context.authorization.slice('Bearer '.length)).exp);
          return true;
        } catch (error) {
          const [code, reason] = refusal(error);
          if (code === CloseCodes.Internal) {
            logger.error('websocket connection failed', {
              message: error instanceof Error ? error.message : String(error),
            });
          }
          socket.close(code, reason);
          return false;
        }
      },
      onSubscribe: async (ctx, id, payload) => {
        const context = contexts.get(ctx);
        if (!context) return [toGraphQLError(new AuthenticationError('The connection is not authenticated'))];
        // ctx.subscriptions already holds this one.
        const active = Object.keys(ctx.subscriptions).length;
        if (active > options.limits.maxSubscriptionsPerConnection) {
          return [tooManySubscriptions(active, options.limits.maxSubscriptionsPerConnection)];
        }
        const socket = ctx.extra.socket;
        const contextValue: SubscriptionContext = {
          ...context,
          live: options.live,
          events: options.events,
          streams: options.streams,
          connectionOpen: () => socket.readyState === socket.OPEN,
        };
        const schema = options.apiSchema();
        const resolved = await traceSubscribeMessage(
          contextValue,
          () => pipeline.prepare(schema, payload, contextValue, 'websocket'),
          (r) => (isRefusal(r) ? r[0]?.message : undefined),
        );
        if (isRefusal(resolved)) return [...resolved];
        const ends = executions.get(ctx) ?? new Map<string, ExecutionEnd>();
        executions.set(ctx, ends);
        ends.set(id, pipeline.executing(resolved));
        const args: ExecutionArgs = {
          schema,
          document: resolved.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
        return args;
      },
      onOperation: (ctx, id, _payload, _args, result) => {
        const end = executions.get(ctx)?.get(id);
        executions.get(ctx)?.delete(id);
        end?.('errors' in result ? result.errors : undefined);
      },
      onError: (ctx, _id, _payload, errors) => format(ctx, errors),
      onNext: (ctx, _id, _payload, _args, result) => {
        if (!result.errors) return;
        return { ...result, errors: format(ctx, result.errors) };
      },
    },
    wss,
  );

  return {
    close: async () => {
      await disposable.dispose();
    },
  };
}

function closeWhenExpired(socket: Extra['socket'], exp: number | undefined): void {
  if (typeof exp !== 'number') return;
  const schedule = () => {
    const left = exp * 1000 - Date.now();
    if (left <= 0) {
      socket.close(CloseCodes.TokenExpired, TOKEN_EXPIRED_REASON);
      return;
    }
    timer = setTimeout(schedule, Math.min(left, MAX_TIMER_MS));
  };
  let timer: NodeJS.Timeout | undefined;
  schedule();
  socket.once('close', () => clearTimeout(timer));
}

function refusal(error: unknown): [number, string] {
  if (!(error instanceof AppError)) return [CloseCodes.Internal, 'Internal server error'];
  const code =
    error.code === 'UNAUTHENTICATED'
      ? CloseCodes.Unauthorized
      : error.code === 'FORBIDDEN'
        ? CloseCodes.Forbidden
        : error.code === 'SERVICE_UNAVAILABLE'
          ? CloseCodes.Unavailable
          : CloseCodes.Internal;
  return [code, closeReason(error.message)];
}

/** A WebSocket close reason may hold at most 123 bytes. */
function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > 123) reason = `${reason.slice(0, -2)}…`;
  return reason;
}
