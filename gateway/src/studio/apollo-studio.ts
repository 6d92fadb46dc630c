import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginSchemaReporting } from '@apollo/server/plugin/schemaReporting';
import { ApolloServerPluginUsageReporting } from '@apollo/server/plugin/usageReporting';
import type { Logger } from '#kernel/logger.ts';

/** Reporting to Apollo GraphOS (Apollo Studio): on only with a key and a graph ref. */
export interface ApolloStudioSettings {
  /** `APOLLO_KEY`: the graph's API key. */
  readonly key: string;
  /** `APOLLO_GRAPH_REF`: `graph-id@variant`. */
  readonly graphRef: string;
  /** `APOLLO_USAGE_REPORTING_ENDPOINT`: the usage ingress's base URL; reports go to `<it>/api/ingress/traces` (Apollo's by default). */
  readonly usageEndpoint?: string;
  /** `APOLLO_SCHEMA_REPORTING_ENDPOINT`: the schema reporting GraphQL endpoint, whole (Apollo's by default). */
  readonly schemaEndpoint?: string;
  /** How often usage reports are sent (Apollo's default, 10 s, when absent). */
  readonly reportIntervalMs?: number;
  /** Longest random delay before the first schema report (Apollo's default, 10 s, when absent). */
  readonly schemaInitialDelayMaxMs?: number;
}

/**
 * Apollo's own plugins, configured so that what leaves the platform is the operations' shapes and
 * timings, never a tenant's data: signatures (literals stripped by Apollo), field-level traces from
 * the subgraphs (federated tracing), error messages masked, no variable values, no headers (so no
 * token). Without settings both plugins are installed disabled, so an `APOLLO_KEY` that happens to
 * be in the environment turns nothing on behind the configuration's back. The schema reported is the
 * gateway's supergraph. Subscriptions (graphql-ws) do not pass through Apollo Server and are not
 * reported.
 */
export function apolloStudioPlugins<C extends BaseContext>(
  settings: ApolloStudioSettings | undefined,
  logger: Logger,
): ApolloServerPlugin<C>[] {
  if (!settings) {
    return [ApolloServerPluginUsageReportingDisabled(), ApolloServerPluginSchemaReportingDisabled()];
  }
  logger.info(`reporting operation usage and the schema to Apollo GraphOS as ${settings.graphRef}`);
  return [
    ApolloServerPluginUsageReporting<C>({
      sendVariableValues: { none: true },
      sendHeaders: { none: true },
      sendErrors: { masked: true },
      // Every operation's trace, with the subgraphs' field timings (ftv1), as Studio's views expect.
      fieldLevelInstrumentation: 1,
      // Its messages go to Apollo Server's logger, which the gateway sets to its own.
      ...(settings.usageEndpoint ? { endpointUrl: settings.usageEndpoint } : {}),
      ...(settings.reportIntervalMs ? { reportIntervalMs: settings.reportIntervalMs } : {}),
    }),
    ApolloServerPluginSchemaReporting({
      ...(settings.schemaEndpoint ? { endpointUrl: settings.schemaEndpoint } : {}),
      ...(settings.schemaInitialDelayMaxMs !== undefined
        ? { initialDelayMaxMs: settings.schemaInitialDelayMaxMs }
        : {}),
    }),
  ];
}
