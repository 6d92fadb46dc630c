import { z } from 'zod';
import { type Env, parseEnv, port } from '#kernel/config.ts';

/** Default port of the agent subgraph. */
export const DEFAULT_PORT = 4002;

/** The agent subgraph's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface AgentConfig {
  /** Port it listens on (`AGENT_PORT`). */
  port: number;
}

const schema = z
  .object({ AGENT_PORT: port(DEFAULT_PORT) })
  .transform((env): AgentConfig => ({ port: env.AGENT_PORT }));

/** Reads and validates the agent subgraph's settings. */
export function loadAgentConfig(env: Env = process.env): AgentConfig {
  return parseEnv(schema, env);
}
