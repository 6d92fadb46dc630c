import { z } from 'zod';
import { bool, type Env, httpUrl, int, parseEnv, port } from '#kernel/config.ts';

/** The subgraphs the gateway routes to; the same names key supergraph.yaml, docker-compose services and log prefixes. */
export const SUBGRAPH_NAMES = ['knowledge', 'agent', 'governance', 'audit'] as const;

/** A subgraph name. */
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** Default port of the gateway. */
export const DEFAULT_GATEWAY_PORT = 4000;

/** Default operation limits of the gateway (GATEWAY_MAX_DEPTH, _ALIASES, _COST, _TOKENS). */
export const DEFAULT_GATEWAY_LIMITS = {
  maxDepth: 15,
  maxAliases: 20,
  maxCost: 10_000,
  maxTokens: 3_000,
} as const;

/** The gateway's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface GatewayConfig {
  port: number;
  /** Routing URL overrides (`<NAME>_URL`); absent names use supergraph.yaml's routing_url. */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  /** @apollo/gateway's anonymous usage reporting to Apollo (`WIDGETDC_APOLLO_TELEMETRY`). */
  apolloTelemetry: boolean;
  /** Limits the gateway enforces on every operation before planning it. */
  limits: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number };
}

const urlVariable = (name: SubgraphName) => `${name.toUpperCase()}_URL` as const;

const schema = z
  .object({
    GATEWAY_PORT: port(DEFAULT_GATEWAY_PORT),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [urlVariable(name), httpUrl()])),
    WIDGETDC_APOLLO_TELEMETRY: bool(false),
    GATEWAY_MAX_DEPTH: int(DEFAULT_GATEWAY_LIMITS.maxDepth, 1, 1_000),
    GATEWAY_MAX_ALIASES: int(DEFAULT_GATEWAY_LIMITS.maxAliases, 1, 10_000),
    GATEWAY_MAX_COST: int(DEFAULT_GATEWAY_LIMITS.maxCost, 1, 100_000_000),
    GATEWAY_MAX_TOKENS: int(DEFAULT_GATEWAY_LIMITS.maxTokens, 10, 1_000_000),
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
      limits: {
        maxDepth: env.GATEWAY_MAX_DEPTH,
        maxAliases: env.GATEWAY_MAX_ALIASES,
        maxCost: env.GATEWAY_MAX_COST,
        maxTokens: env.GATEWAY_MAX_TOKENS,
      },
    };
  });

/** Reads and validates the gateway's settings; every problem is reported together, naming the variable. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  return parseEnv(schema, env);
}
