import { z } from 'zod';
import { ConfigError } from '#kernel/errors.ts';

/** How long a subgraph may take to send its response headers, and again between body chunks. */
export const DEFAULT_SUBGRAPH_TIMEOUT_MS = 30_000;
/** Keep-alive connections the gateway opens at most to one subgraph origin. */
export const DEFAULT_SUBGRAPH_CONNECTIONS = 64;
/** How long an idle keep-alive connection to a subgraph stays open. */
export const DEFAULT_SUBGRAPH_KEEP_ALIVE_MS = 30_000;

const integer = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number from ${min} to ${max}` })
    .int(`${name} must be a whole number from ${min} to ${max}`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);

const schema = z.object({
  SUBGRAPH_TIMEOUT_MS: integer('SUBGRAPH_TIMEOUT_MS', 100, 600_000, DEFAULT_SUBGRAPH_TIMEOUT_MS),
  SUBGRAPH_CONNECTIONS: integer('SUBGRAPH_CONNECTIONS', 1, 10_000, DEFAULT_SUBGRAPH_CONNECTIONS),
  SUBGRAPH_KEEP_ALIVE_MS: integer('SUBGRAPH_KEEP_ALIVE_MS', 1_000, 600_000, DEFAULT_SUBGRAPH_KEEP_ALIVE_MS),
});

/** How the gateway talks to its subgraphs. */
export interface SubgraphFetcherConfig {
  /** `SUBGRAPH_TIMEOUT_MS`: time allowed for the response headers, and again between body chunks. */
  timeoutMs: number;
  /** `SUBGRAPH_CONNECTIONS`: keep-alive connections at most per subgraph origin. */
  connections: number;
  /** `SUBGRAPH_KEEP_ALIVE_MS`: idle time after which a keep-alive connection is closed. */
  keepAliveMs: number;
}

/** Reads and validates `SUBGRAPH_*`; every problem is reported together. */
export function loadSubgraphFetcherConfig(
  env: Record<string, string | undefined> = process.env,
): SubgraphFetcherConfig {
  const blank = (value: string | undefined) =>
    value === undefined || value.trim() === '' ? undefined : value;
  const parsed = schema.safeParse({
    SUBGRAPH_TIMEOUT_MS: blank(env.SUBGRAPH_TIMEOUT_MS),
    SUBGRAPH_CONNECTIONS: blank(env.SUBGRAPH_CONNECTIONS),
    SUBGRAPH_KEEP_ALIVE_MS: blank(env.SUBGRAPH_KEEP_ALIVE_MS),
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  return {
    timeoutMs: parsed.data.SUBGRAPH_TIMEOUT_MS,
    connections: parsed.data.SUBGRAPH_CONNECTIONS,
    keepAliveMs: parsed.data.SUBGRAPH_KEEP_ALIVE_MS,
  };
}
