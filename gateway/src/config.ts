import { z } from 'zod';
import { bool, type Env, httpUrl, parseEnv, port } from '#kernel/config.ts';

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
}

const urlVariable = (name: SubgraphName) => `${name.toUpperCase()}_URL` as const;

const schema = z
  .object({
    GATEWAY_PORT: port(DEFAULT_GATEWAY_PORT),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [urlVariable(name), httpUrl()])),
    WIDGETDC_APOLLO_TELEMETRY: bool(false),
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
    };
  });

/** Reads and validates the gateway's settings; every problem is reported together, naming the variable. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return parseEnv(schema, env);
}
