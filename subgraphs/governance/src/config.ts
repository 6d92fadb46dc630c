import { z } from 'zod';
import { type Env, httpUrl, parseEnv, port } from '#kernel/config.ts';

/** Default port of the governance subgraph. */
export const DEFAULT_PORT = 4003;
/** Where governance asks about tasks unless `AGENT_URL` says otherwise (the agent subgraph's default address). */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:4002/graphql';

/** The governance subgraph's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface GovernanceConfig {
  /** Port it listens on (`GOVERNANCE_PORT`). */
  port: number;
  /** The agent subgraph's GraphQL endpoint, asked whether a task exists (`AGENT_URL`). */
  agentUrl: string;
}

const schema = z
  .object({ GOVERNANCE_PORT: port(DEFAULT_PORT), AGENT_URL: httpUrl() })
  .transform(
    (env): GovernanceConfig => ({ port: env.GOVERNANCE_PORT, agentUrl: env.AGENT_URL ?? DEFAULT_AGENT_URL }),
  );

/** Reads and validates the governance subgraph's settings. */
export function loadGovernanceConfig(env: Env = process.env): GovernanceConfig {
  return parseEnv(schema, env);
}
