import { z } from 'zod';
import { bool, type Env, httpUrl, parseEnv, port, text } from '#kernel/config.ts';
import type { ApolloStudioSettings } from './studio/apollo-studio.ts';

/** The subgraphs the gateway routes to; the same names key supergraph.yaml, docker-compose services and log prefixes. */
export const SUBGRAPH_NAMES = ['knowledge', 'agent', 'governance', 'audit'] as const;

/** A subgraph name. */
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Default port of the gateway. */
export const DEFAULT_GATEWAY_PORT = 4000;

/** The gateway's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface GatewayConfig {
  port: number;
  /** Routing URL overrides (`<NAME>_URL`); absent names use supergraph.yaml's routing_url. */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  /** @apollo/gateway's anonymous usage reporting to Apollo (`WIDGETDC_APOLLO_TELEMETRY`). */
  apolloTelemetry: boolean;
  /** Browser origins allowed to call the gateway (`CORS_ORIGINS`); none by default. */
  corsOrigins: string[];
  /** Usage and schema reporting to Apollo GraphOS (`APOLLO_KEY` with `APOLLO_GRAPH_REF`); off by default. */
  apolloStudio?: ApolloStudioSettings;
}

/** Apollo's graph ref: a graph id and a variant (`my-graph@current`). */
const GRAPH_REF = /^[A-Za-z0-9][A-Za-z0-9_-]*@[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** `CORS_ORIGINS`: comma-separated origins (`https://app.example.com`, `http://localhost:5173`). */
const origins = () =>
  text().transform((raw, ctx) => {
    const list = (raw ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    const bad = list.filter(
      (o) => !URL.canParse(o) || !/^https?:$/.test(new URL(o).protocol) || new URL(o).origin !== o,
    );
    if (bad.length === 0) return [...new Set(list)];
    ctx.addIssue({
      code: 'custom',
      message: `must be comma-separated origins such as https://app.example.com (scheme, host and port, no path or trailing slash; got "${bad.join(', ')}")`,
    });
    return z.NEVER;
  });

const urlVariable = (name: SubgraphName) => `${name.toUpperCase()}_URL` as const;

const schema = z
  .object({
    GATEWAY_PORT: port(DEFAULT_GATEWAY_PORT),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [urlVariable(name), httpUrl()])),
    WIDGETDC_APOLLO_TELEMETRY: bool(false),
    CORS_ORIGINS: origins(),
    APOLLO_KEY: text(),
    APOLLO_GRAPH_REF: text(),
    APOLLO_USAGE_REPORTING_ENDPOINT: httpUrl(),
    APOLLO_SCHEMA_REPORTING_ENDPOINT: httpUrl(),
  })
  .superRefine((env, ctx) => {
    if (env.APOLLO_KEY && !env.APOLLO_GRAPH_REF)
      ctx.addIssue({
        code: 'custom',
        path: ['APOLLO_GRAPH_REF'],
        message: 'must be set with APOLLO_KEY: the graph and variant to report to, as my-graph@current',
      });
    if (env.APOLLO_GRAPH_REF && !env.APOLLO_KEY)
      ctx.addIssue({
        code: 'custom',
        path: ['APOLLO_KEY'],
        message: "must be set with APOLLO_GRAPH_REF: the graph's API key from Apollo Studio",
      });
    if (env.APOLLO_GRAPH_REF && !GRAPH_REF.test(env.APOLLO_GRAPH_REF))
      ctx.addIssue({
        code: 'custom',
        path: ['APOLLO_GRAPH_REF'],
        message: `must be a graph id and a variant, as my-graph@current (got "${env.APOLLO_GRAPH_REF}")`,
      });
  })
  .transform((env): GatewayConfig => {
    const subgraphUrls: Partial<Record<SubgraphName, string>> = {};
    for (const name of SUBGRAPH_NAMES) {
      const url = (env as Record<string, unknown>)[urlVariable(name)];
      if (typeof url === 'string') subgraphUrls[name] = url;
    }
    return {
      port: env.GATEWAY_PORT,
      subgraphUrls,
      apolloTelemetry: env.WIDGETDC_APOLLO_TELEMETRY,
      corsOrigins: env.CORS_ORIGINS,
      ...(env.APOLLO_KEY && env.APOLLO_GRAPH_REF
        ? {
            apolloStudio: {
              key: env.APOLLO_KEY,
              graphRef: env.APOLLO_GRAPH_REF,
              ...(env.APOLLO_USAGE_REPORTING_ENDPOINT
                ? { usageEndpoint: env.APOLLO_USAGE_REPORTING_ENDPOINT }
                : {}),
              ...(env.APOLLO_SCHEMA_REPORTING_ENDPOINT
                ? { schemaEndpoint: env.APOLLO_SCHEMA_REPORTING_ENDPOINT }
                : {}),
            },
          }
        : {}),
    };
  });

/** Reads and validates the gateway's settings; every problem is reported together, naming the variable. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return parseEnv(schema, env);
}
