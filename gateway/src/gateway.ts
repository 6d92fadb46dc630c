import type { IncomingMessage } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type GraphQLSchema, Kind, parse, type StringValueNode } from 'graphql';
import { createTokenVerifier, type TokenVerifierOptions } from '#kernel/auth/token-verifier.ts';
import { requestIdOf } from '#kernel/graphql/context.ts';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from '#kernel/graphql/limits/operation-limits.ts';
import { apolloPipeline } from '#kernel/graphql/pipeline/apollo-pipeline.ts';
import { GRAPHQL_PATH, MAX_BODY_BYTES, startHttpServer } from '#kernel/http/server.ts';
import type { Logger } from '#kernel/logger.ts';
import { AuthForwardingDataSource } from './auth-forwarding-data-source.ts';
import { LIVE_SUBGRAPH } from './compose.ts';
import type { SubgraphName } from './config.ts';
import type { ConsoleSignIn } from './console/console-config.ts';
import { CONSOLE_PATH, consoleRoute } from './console/console-routes.ts';
import { createGatewayContext, type GatewayContext } from './context.ts';
import { createRequestEntry, createUpgradeOriginCheck } from './cors.ts';
import { createGatewayFormatError } from './format-error.ts';
import { introspectionPlugin } from './introspection-plugin.ts';
import { createInProcessPubSub } from './live/in-process-pubsub.ts';
import type { LivePubSub } from './live/live-pubsub.ts';
import { createGatewayPipeline } from './pipeline/gateway-pipeline.ts';
import { inOperationSpan } from './pipeline/use-tracing.ts';
import { probeSubgraphs } from './readiness.ts';
import { type ApolloStudioSettings, apolloStudioPlugins } from './studio/apollo-studio.ts';
import { createSubgraphFetcher } from './subgraph-fetcher.ts';
import { loadSubgraphFetcherConfig } from './subgraph-fetcher-config.ts';
import { createEventExecutor } from './subscriptions/federated-events.ts';
import { LiveDataSource } from './subscriptions/live-data-source.ts';
import { createSubgraphStreams } from './subscriptions/subgraph-stream.ts';
import { DEFAULT_SUBSCRIPTION_LIMITS, type SubscriptionLimits } from './subscriptions/subscription-limits.ts';
import { loadSubscriptionSchema } from './subscriptions/subscription-schema.ts';
import { startSubscriptionServer } from './subscriptions/subscription-server.ts';
import { createTenantProbe } from './subscriptions/tenant-probe.ts';
import { createUploadProxy, UPLOAD_PATH } from './upload/upload-proxy.ts';
import { auditHttpRefusal, refusalAudit } from './use-refusal-audit.ts';

/**
 * Document uploads (`ingestDocument`, base64 in the JSON body) may exceed the 1 MiB body limit up to
 * this; the knowledge subgraph enforces the exact document limit (KNOWLEDGE_MAX_DOCUMENT_BYTES) with
 * a message naming it. Every other operation keeps the 1 MiB limit.
 */
const LARGE_BODIES = { maxBytes: 64 * 1024 * 1024, rootFields: ['ingestDocument'] } as const;

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  supergraphSdl: string;
  /** Routing URL overrides by subgraph name; others use the supergraph's `join__graph` URLs. */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  auth: TokenVerifierOptions;
  host: string;
  port: number;
  introspection: boolean;
  /** Apollo's anonymous usage telemetry; off unless explicitly enabled. */
  apolloTelemetry: boolean;
  logger: Logger;
  /** Depth, alias, directive, cost, token and entity limits of every operation; {@link DEFAULT_OPERATION_LIMITS} when absent. */
  limits?: OperationLimits;
  /**
   * Database the gateway writes the audit records of its own refusals to (limits, validation,
   * malformed requests of verified callers); without one they are only logged (ADR 0013).
   */
  auditOrm?: MikroORM;
  /** Caps of the WebSocket endpoint; {@link DEFAULT_SUBSCRIPTION_LIMITS} when absent. */
  subscriptionLimits?: SubscriptionLimits;
  /** Production mode: no "Did you mean …" suggestions in errors. */
  production?: boolean;
  /** Live pub/sub feeding subscriptions; an in-process one (owned and closed by the gateway) when absent. */
  live?: LivePubSub;
  /** Serves the console at `/console` with these sign-in settings; not served when absent. */
  console?: ConsoleSignIn;
  /** Usage and schema reports to Apollo GraphOS; nothing is sent when absent. */
  apolloStudio?: ApolloStudioSettings;
  /** Browser origins allowed by CORS; none when absent. */
  corsOrigins?: readonly string[];
}

/** A running gateway. */
export interface RunningGateway {
  /** HTTP endpoint of queries and mutations. */
  readonly url: string;
  /** WebSocket endpoint of subscriptions (graphql-ws), same port and path. */
  readonly wsUrl: string;
  /** The live pub/sub subscriptions read; the event bus publishes to it. */
  readonly live: LivePubSub;
  close(): Promise<void>;
}

/**
 * Routing URL of each subgraph: overrides first, then the supergraph's `@join__graph(url:)`. The
 * gateway's own `live` subgraph has no address and is not listed.
 */
export function routingUrls(
  supergraphSdl: string,
  overrides: Partial<Record<string, string>>,
): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const graph = value.directives?.find((d) => d.name.value === 'join__graph');
      const arg = (name: string) =>
        (graph?.arguments?.find((a) => a.name.value === name)?.value as StringValueNode)?.value;
      const name = arg('name');
      const url = arg('url');
      if (name && url && name !== LIVE_SUBGRAPH.name) urls[name] = overrides[name] ?? url;
    }
  }
  return urls;
}

/** Serves the static supergraph: verifies callers, plans, and forwards their token to subgraphs. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { logger } = options;
  // @apollo/gateway reads this in its constructor and otherwise reports usage to Apollo.
  if (!options.apolloTelemetry) process.env.APOLLO_TELEMETRY_DISABLED = '1';
  const urls = routingUrls(options.supergraphSdl, options.subgraphUrls);
  const fetcherConfig = loadSubgraphFetcherConfig();
  const fetcher = createSubgraphFetcher(fetcherConfig);
  const subscriptions = await loadSubscriptionSchema();
  // The data sources the gateway plans with; subscription events run through the same ones.
  const serviceMap: Record<string, AuthForwardingDataSource | LiveDataSource> = {};
  // Apollo's logger interface over ours, for the gateway and the server alike.
  const apolloLogger = { debug: logger.debug, info: logger.info, warn: logger.warn, error: logger.error };
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => {
      const source =
        name === LIVE_SUBGRAPH.name
          ? new LiveDataSource(subscriptions.schema)
          : new AuthForwardingDataSource({ url: urls[name] ?? url, name, fetcher });
      serviceMap[name] = source;
      return source;
    },
    logger: apolloLogger,
  });
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: loaded }) => {
    apiSchema = loaded;
  });
  const loadedApiSchema = () => {
    if (!apiSchema) throw new Error('the gateway has not loaded its supergraph yet');
    return apiSchema;
  };
  const limits = options.limits ?? DEFAULT_OPERATION_LIMITS;
  const formatError = createGatewayFormatError(logger);
  const verifier = createTokenVerifier(options.auth);
  // One chain for HTTP and WebSocket operations alike.
  const pipeline = createGatewayPipeline({
    verifier,
    limits,
    subscriptions,
    path: GRAPHQL_PATH,
    production: options.production ?? false,
    logger,
  });
  const overHttp = apolloPipeline(pipeline);
  const apollo = new ApolloServer<GatewayContext>({
    gateway: inOperationSpans(gateway),
    // Apollo's own messages (its reporting plugins among them) go to the gateway's log.
    logger: apolloLogger,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError,
    // Stated, not assumed: a simple (form-like) request cannot run operations.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // The parser stops at the token limit, before any validation work.
    parseOptions: overHttp.parseOptions,
    // Apollo's guard against fragment-expansion blow-ups during validation.
    maxRecursiveSelections: true,
    plugins: [
      overHttp.plugin,
      introspectionPlugin(),
      ...refusalAudit(options),
      ...apolloStudioPlugins<GatewayContext>(options.apolloStudio, logger.child('apollo-studio')),
    ],
    // The key comes from the gateway's validated configuration, never from a stray environment variable.
    ...(options.apolloStudio
      ? { apollo: { key: options.apolloStudio.key, graphRef: options.apolloStudio.graphRef } }
      : {}),
    // Our onShutdown owns signals; Apollo's own handler races it and re-sends the signal mid-close.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const context = createGatewayContext(pipeline);
  // Streamed document uploads (bytes not in a JSON body) go to the knowledge subgraph (ADR 0016).
  if (!urls.knowledge) throw new Error('the supergraph names no knowledge subgraph to upload documents to');
  const upload = createUploadProxy({
    pipeline,
    knowledgeUrl: urls.knowledge,
    timeoutMs: fetcherConfig.timeoutMs,
    ...(options.auditOrm ? { auditOrm: options.auditOrm } : {}),
    logger: logger.child('upload'),
  });
  const http = await startHttpServer({
    host: options.host,
    port: options.port,
    apollo,
    logger,
    context: (req: IncomingMessage) => context(req),
    auditRefusal: auditHttpRefusal(options, context),
    largeBodies: LARGE_BODIES,
    routes: { [UPLOAD_PATH]: upload.handle },
    ready: () => probeSubgraphs(urls),
    prefixRoutes: options.console
      ? { [CONSOLE_PATH]: consoleRoute({ signIn: options.console, logger: logger.child('console') }) }
      : undefined,
    onRequest: createRequestEntry(options.corsOrigins ?? []),
    // The entry above has set the request's id; the pipeline stamps it on every error.
    formatErrors: (errors, req) => pipeline.formatted(errors, { requestId: requestIdOf(req.headers) }),
  });
  const live = options.live ?? createInProcessPubSub();
  const probeUrl = urls.governance ?? Object.values(urls)[0];
  if (!probeUrl) throw new Error('the supergraph names no subgraph to confirm tenants with');
  const events = createEventExecutor({
    gateway,
    apiSchema: loadedApiSchema,
    serviceMap,
    logger: logger.child('live'),
  });
  const ws = startSubscriptionServer({
    server: http.server,
    path: GRAPHQL_PATH,
    apiSchema: loadedApiSchema,
    events,
    streams: createSubgraphStreams({ urls, events, logger: logger.child('stream') }),
    pipeline,
    tenantCheck: createTenantProbe(probeUrl),
    live,
    limits: options.subscriptionLimits ?? DEFAULT_SUBSCRIPTION_LIMITS,
    maxPayloadBytes: MAX_BODY_BYTES,
    allowOrigin: createUpgradeOriginCheck(options.corsOrigins ?? []),
    formatError,
    logger: logger.child('ws'),
  });
  return {
    url: http.url,
    wsUrl: http.url.replace(/^http/, 'ws'),
    live,
    close: async () => {
      // WebSockets first, so no subscription reads a closed pub/sub.
      await ws.close();
      await http.close();
      await apollo.stop();
      await fetcher.close();
      await upload.close();
      if (!options.live) await live.close();
    },
  };
}

/**
 * The gateway with its executor run inside each operation's span (useTracing), so that
 * `gateway.request` and what it plans and fetches are children of the operation span.
 */
function inOperationSpans(
  gateway: ApolloGateway,
): Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'> {
  return {
    async load(options) {
      const loaded = await gateway.load(options);
      const { executor } = loaded;
      return { ...loaded, executor: (request) => inOperationSpan(request.context, () => executor(request)) };
    },
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  };
}
