import { readFile } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { EntitySchema, MikroORM } from '@mikro-orm/postgresql';
import { type DocumentNode, type GraphQLSchema, Kind, parse } from 'graphql';
import { recordRequestRefusal, useRefusalAudit } from '../audit/refusals.ts';
import { authOptions } from '../auth/auth-options.ts';
import { createTokenVerifier, type TokenVerifierOptions } from '../auth/token-verifier.ts';
import { loadConfig } from '../config.ts';
import { assertApplicationRole } from '../db/app-role-guard.ts';
import { createOrm } from '../db/orm.ts';
import { createTenantDirectory } from '../db/tenant-directory.ts';
import { ConfigError } from '../errors.ts';
import { type LargeBodies, startHttpServer } from '../http/server.ts';
import { createLogger, type Logger } from '../logger.ts';
import { announceReady, onShutdown } from '../process/lifecycle.ts';
import { createContextFactory, type RequestContext } from './context.ts';
import { databaseReadiness } from './database-readiness.ts';
import { createFormatError } from './errors.ts';
import { guardSchema } from './guard.ts';
import { formatLimitErrors } from './limits/format-limit-errors.ts';
import { loadOperationLimits } from './limits/limits-config.ts';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from './limits/operation-limits.ts';
import { useOperationLimits } from './limits/use-operation-limits.ts';
import { apolloPipeline } from './pipeline/apollo-pipeline.ts';
import type { OperationPlugin } from './pipeline/operation-plugin.ts';
import { createPipeline } from './pipeline/pipeline.ts';
import { useHiddenSuggestions } from './pipeline/use-hidden-suggestions.ts';
import { platformServiceClientIds } from './service-client-ids.ts';
import { createSubscriptionRoute, STREAM_PATH } from './subscription-route.ts';

/** Whom a subgraph's refusal records name, and the tenant scope they go to. */
const callerOf = (ctx: RequestContext) => ({
  identity: ctx.identity,
  scope: ctx.db,
  requestId: ctx.requestId,
});

/** Everything that makes a subgraph: its SDL, resolvers and entities. */
export interface SubgraphDefinition {
  /** The subgraph's name: its log prefix and the name it announces. */
  name: string;
  /** Location of `schema.graphql`, the source of truth. */
  schema: URL;
  resolvers: GraphQLResolverMap<RequestContext>;
  // biome-ignore lint/suspicious/noExplicitAny: entity schemas of any shape
  entities: EntitySchema<any, any>[];
  /** Operations allowed bodies over 1 MiB (uploads) and their limit. */
  largeBodies?: LargeBodies;
  /** HTTP routes beside `/graphql` (a streamed upload), by exact path. */
  routes?: (deps: SubgraphRouteDeps) => Record<string, SubgraphRoute>;
}

/** What a subgraph's own HTTP route gets: the same caller verification and tenant scope as GraphQL. */
export interface SubgraphRouteDeps {
  /** Verifies the caller's token and registration; throws a GraphQLError carrying the HTTP status. */
  context: (headers: IncomingHttpHeaders) => Promise<RequestContext>;
  logger: Logger;
}

/** A handler of one HTTP route (it answers every request itself, errors included). */
export type SubgraphRoute = (req: IncomingMessage, res: ServerResponse) => void;

/** Options of {@link startSubgraph}. */
export interface SubgraphOptions {
  databaseUrl: string;
  auth: TokenVerifierOptions;
  autoProvisionTenants: boolean;
  host: string;
  port: number;
  introspection: boolean;
  poolMax?: number;
  logger: Logger;
  /** Tenants whose Admins operate the platform. */
  operatorTenantIds?: readonly string[];
  /** The operation limits (the gateway's, one implementation); {@link DEFAULT_OPERATION_LIMITS} when absent. */
  limits?: OperationLimits;
  /** Production mode: validation errors carry no "Did you mean …" suggestions. */
  production?: boolean;
  /** Client ids of the platform's own service identities, the only callers `_service` answers. */
  serviceClientIds?: readonly string[];
}

/** What shapes a subgraph's GraphQL server besides its definition. */
export type SubgraphApolloOptions = Pick<
  SubgraphOptions,
  'introspection' | 'logger' | 'limits' | 'production' | 'serviceClientIds'
>;

/** A running subgraph. */
export interface RunningSubgraph {
  readonly name: string;
  readonly url: string;
  readonly orm: MikroORM;
  close(): Promise<void>;
}

/** Reads a subgraph's SDL from disk. */
export async function readSchema(definition: SubgraphDefinition): Promise<string> {
  return readFile(definition.schema, 'utf8');
}

/** The subgraph's executable schema behind its role declarations (guardSchema). */
function guardedSchema(
  typeDefs: DocumentNode,
  definition: SubgraphDefinition,
  options: SubgraphApolloOptions,
): GraphQLSchema {
  return guardSchema(buildSubgraphSchema([{ typeDefs, resolvers: definition.resolvers }]), {
    subgraph: definition.name,
    logger: options.logger,
    serviceClientIds: options.serviceClientIds ?? [],
  });
}

/**
 * The route serving the subgraph's Subscription fields over SSE ({@link STREAM_PATH}), when its SDL
 * declares any; the gateway relays them to its WebSocket clients (ADR 0031).
 */
export async function subscriptionRoutes(
  definition: SubgraphDefinition,
  options: SubgraphApolloOptions,
  context: SubgraphRouteDeps['context'],
): Promise<Record<string, SubgraphRoute>> {
  const typeDefs = parse(await readSchema(definition));
  const declares = typeDefs.definitions.some(
    (d) =>
      (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      d.name.value === 'Subscription',
  );
  if (!declares) return {};
  const schema = guardedSchema(typeDefs, definition, options);
  return {
    [STREAM_PATH]: createSubscriptionRoute({
      schema,
      context,
      logger: options.logger,
      ...(options.limits ? { limits: options.limits } : {}),
    }),
  };
}

/** Builds the subgraph's Apollo Server from its SDL and resolvers (not yet started). */
export async function createSubgraphApollo(
  definition: SubgraphDefinition,
  options: SubgraphApolloOptions,
): Promise<ApolloServer<RequestContext>> {
  const typeDefs = parse(await readSchema(definition));
  // Zero trust: a request straight to a subgraph meets the gateway's limits (the same plugin).
  const plugins: OperationPlugin<RequestContext>[] = [
    useOperationLimits({ limits: options.limits ?? DEFAULT_OPERATION_LIMITS, logger: options.logger }),
  ];
  if (options.production) plugins.push(useHiddenSuggestions());
  const pipeline = apolloPipeline(createPipeline(plugins));
  return new ApolloServer<RequestContext>({
    schema: guardedSchema(typeDefs, definition, options),
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: formatLimitErrors(createFormatError(options.logger)),
    // The parser stops at the token limit, before any validation work.
    parseOptions: pipeline.parseOptions,
    // Apollo's guard against fragment-expansion blow-ups during validation.
    maxRecursiveSelections: true,
    // Our onShutdown owns signals; Apollo's own handler races it and re-sends the signal mid-close.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Federated tracing for Apollo Studio: field timings (ftv1) only when the caller asks with
      // `apollo-federation-include-trace` (the gateway, when it reports to Studio), error messages
      // masked. Our own traces go to OpenTelemetry.
      ApolloServerPluginInlineTrace({ includeErrors: { masked: true } }),
      pipeline.plugin,
      // Whole-request refusals (parse, validation, variables, limits) are audited too (ADR 0013).
      useRefusalAudit<RequestContext>({ service: definition.name, callerOf, logger: options.logger }),
    ],
  });
}

/** Starts a subgraph: ORM (refusing privileged roles), token verification, Apollo, HTTP. */
export async function startSubgraph(
  definition: SubgraphDefinition,
  options: SubgraphOptions,
): Promise<RunningSubgraph> {
  const { logger } = options;
  const orm = await createOrm({
    url: options.databaseUrl,
    entities: definition.entities,
    poolMax: options.poolMax,
  });
  try {
    await assertApplicationRole(orm);
    const apollo = await createSubgraphApollo(definition, options);
    await apollo.start();
    const context = createContextFactory({
      verifier: createTokenVerifier(options.auth),
      tenants: createTenantDirectory(orm, { autoProvision: options.autoProvisionTenants, logger }),
      orm,
      operatorTenantIds: options.operatorTenantIds ?? [],
    });
    const http = await startHttpServer({
      host: options.host,
      port: options.port,
      apollo,
      logger,
      context: (req: IncomingMessage) => context(req.headers),
      auditRefusal: async (req, refusal) => {
        const ctx = await context(req.headers).catch(() => undefined);
        if (ctx) await recordRequestRefusal(definition.name, callerOf(ctx), refusal, logger);
      },
      ...(definition.largeBodies ? { largeBodies: definition.largeBodies } : {}),
      routes: {
        ...(await subscriptionRoutes(definition, options, context)),
        ...definition.routes?.({ context, logger }),
      },
      ready: databaseReadiness(orm),
    });
    return {
      name: definition.name,
      url: http.url,
      orm,
      close: async () => {
        await http.close();
        await apollo.stop();
        await orm.close();
      },
    };
  } catch (error) {
    await orm.close();
    throw error;
  }
}

/** Options of {@link runSubgraph}. */
export interface RunSubgraphOptions {
  /** Port to listen on, from the subgraph's own configuration. */
  port: number;
  /** Closes what the process opened for the definition (after the server has stopped). */
  onClose?: () => Promise<void>;
}

/** Process entry point of a subgraph: reads configuration, starts, and stops on a signal. */
export async function runSubgraph(definition: SubgraphDefinition, run: RunSubgraphOptions): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(definition.name, config.log);
  if (!config.database.url) {
    throw new ConfigError(['DATABASE_URL must be set (npm start sets it for the embedded database)']);
  }
  const running = await startSubgraph(definition, {
    databaseUrl: config.database.url,
    operatorTenantIds: config.auth.operatorTenantIds,
    auth: authOptions(config),
    autoProvisionTenants: config.auth.autoProvisionTenants,
    host: config.host,
    port: run.port,
    introspection: config.introspection,
    poolMax: config.database.poolMax,
    logger,
    limits: loadOperationLimits(),
    production: config.nodeEnv === 'production',
    serviceClientIds: platformServiceClientIds(config),
  });
  onShutdown(async () => {
    await running.close();
    await run.onClose?.();
  }, logger);
  logger.info(`ready at ${running.url}`);
  announceReady({ name: definition.name, url: running.url });
}
