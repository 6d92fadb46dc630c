import type { IncomingMessage } from 'node:http';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { Kind, parse, type StringValueNode } from 'graphql';
import { createTokenVerifier, type TokenVerifierOptions } from '#kernel/auth/token-verifier.ts';
import type { SubgraphName } from '#kernel/config.ts';
import { createFormatError } from '#kernel/graphql/errors.ts';
import { startHttpServer } from '#kernel/http/server.ts';
import type { Logger } from '#kernel/logger.ts';
import { AuthForwardingDataSource } from './auth-forwarding-data-source.ts';
import { createGatewayContext, type GatewayContext } from './context.ts';
import { probeSubgraphs } from './readiness.ts';

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
}

/** A running gateway. */
export interface RunningGateway {
  readonly url: string;
  close(): Promise<void>;
}

/** Routing URL of each subgraph: overrides first, then the supergraph's `@join__graph(url:)`. */
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
      if (name && url) urls[name] = overrides[name] ?? url;
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
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => new AuthForwardingDataSource({ url: urls[name] ?? url }),
    logger: { debug: logger.debug, info: logger.info, warn: logger.warn, error: logger.error },
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: options.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(logger),
    // Our onShutdown owns signals; Apollo's own handler races it and re-sends the signal mid-close.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  const context = createGatewayContext(createTokenVerifier(options.auth));
  const http = await startHttpServer({
    host: options.host,
    port: options.port,
    apollo,
    logger,
    context: (req: IncomingMessage) => context(req),
    ready: () => probeSubgraphs(urls),
  });
  return {
    url: http.url,
    close: async () => {
      await http.close();
      await apollo.stop();
    },
  };
}
