import type { Server } from 'node:http';
import {
  type DocumentNode,
  type ExecutionArgs,
  GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
  parse,
  validate,
} from 'graphql';
import type { Context } from 'graphql-ws';
import { type Extra, useServer } from 'graphql-ws/use/ws';
import { decodeJwt } from 'jose';
import { WebSocketServer } from 'ws';
import { bearerToken } from '#kernel/auth/bearer.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import type { TokenVerifier } from '#kernel/auth/token-verifier.ts';
import { AppError, AuthenticationError } from '#kernel/errors.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';
import { assertHasRole } from '#kernel/graphql/roles.ts';
import type { Logger } from '#kernel/logger.ts';
import type { LivePubSub } from '../live/live-pubsub.ts';
import {
  checkOperationLimits,
  countTokens,
  type OperationLimits,
  tooLargeError,
} from '../operation-limits.ts';
import { rootFieldNames } from './root-fields.ts';
import type { SubscriptionContext, SubscriptionSchema } from './subscription-schema.ts';
import type { TenantCheck } from './tenant-probe.ts';

/** Close codes of the gateway's WebSocket endpoint (graphql-ws reserves 4400-4499 for such refusals). */
export const CloseCodes = {
  /** No, a malformed, a forged or an expired token; also sent when the token expires mid-connection. */
  Unauthorized: 4401,
  /** A valid token whose tenant is not registered. */
  Forbidden: 4403,
  /** The identity provider or the tenant directory cannot be reached. */
  Unavailable: 4503,
  Internal: 4500,
} as const;

/** Reason sent with {@link CloseCodes.Unauthorized} when a connection's token expires. */
export const TOKEN_EXPIRED_REASON = 'token expired';

/** Longest delay a Node timer accepts; a token living longer is re-checked then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link startSubscriptionServer}. */
export interface SubscriptionServerOptions {
  server: Server;
  path: string;
  subscriptions: SubscriptionSchema;
  verifier: TokenVerifier;
  tenantCheck: TenantCheck;
  live: LivePubSub;
  limits: OperationLimits;
  /** Largest WebSocket message accepted. */
  maxPayloadBytes: number;
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
 * `{ authorization: 'Bearer …' }`; the token is verified like an HTTP request's and the tenant must
 * be registered. The connection is closed with 4401 `token expired` when the token's `exp` passes.
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): RunningSubscriptionServer {
  const { subscriptions, logger } = options;
  const { schema } = subscriptions;
  const identities = new WeakMap<Ctx, Identity>();
  const wss = new WebSocketServer({
    server: options.server,
    path: options.path,
    maxPayload: options.maxPayloadBytes,
  });
  wss.on('error', (error) => logger.error('websocket server error', { message: error.message }));
  // Apollo strips `extensions.http` itself over HTTP; here it is done by hand.
  const format = (errors: readonly GraphQLError[]) =>
    errors.map((e) => {
      const formatted = options.formatError(e.toJSON(), e);
      const { http: _http, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    });

  const disposable = useServer<Record<string, unknown>, Record<PropertyKey, never>>(
    {
      schema,
      isProd: true,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        try {
          const raw = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization;
          if (typeof raw !== 'string' || raw === '') {
            throw new AuthenticationError(
              'Missing access token: send { "authorization": "Bearer <token>" } in connection_init',
            );
          }
          const token = bearerToken(raw);
          const identity = await options.verifier(token);
          await options.tenantCheck(`Bearer ${token}`);
          identities.set(ctx, identity);
          closeWhenExpired(socket, decodeJwt(token).exp);
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
      onSubscribe: (ctx, _id, payload) => {
        const identity = identities.get(ctx);
        if (!identity)
          return [toGraphQLError(new AuthenticationError('The connection is not authenticated'))];
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: options.limits.maxTokens });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (/Document contains more (?:than|that) \d+ tokens/.test(message)) {
            return [tooLargeError(countTokens(payload.query), options.limits.maxTokens)];
          }
          return [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const invalid = validate(schema, document);
        if (invalid.length > 0) {
          return invalid.map(
            (e) =>
              new GraphQLError(e.message, {
                nodes: e.nodes,
                extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
              }),
          );
        }
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return [
            new GraphQLError('Name the operation to run (operationName)', {
              extensions: { code: 'BAD_REQUEST' },
            }),
          ];
        }
        if (operation.operation !== 'subscription') {
          return [
            new GraphQLError(
              `The WebSocket endpoint serves subscriptions only; send ${operation.operation} operations over HTTP POST to ${options.path}`,
              { extensions: { code: 'BAD_REQUEST' } },
            ),
          ];
        }
        const tooBig = checkOperationLimits(
          schema,
          document,
          operation,
          payload.variables ?? undefined,
          options.limits,
        );
        if (tooBig) return [tooBig];
        try {
          for (const field of rootFieldNames(document, operation)) {
            const required = subscriptions.roles.get(`Subscription.${field}`);
            if (required) assertHasRole(identity, required, `Subscription.${field}`);
          }
        } catch (error) {
          if (error instanceof AppError) return [toGraphQLError(error)];
          throw error;
        }
        const contextValue: SubscriptionContext = { identity, live: options.live };
        const args: ExecutionArgs = {
          schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return;
        return { ...result, errors: format(result.errors) };
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
      socket.close(CloseCodes.Unauthorized, TOKEN_EXPIRED_REASON);
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
