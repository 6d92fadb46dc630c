import { z } from 'zod';
import { type Env, parseEnv, port } from '#kernel/config.ts';

/** Default port of the knowledge subgraph. */
export const DEFAULT_PORT = 4001;

/** The knowledge subgraph's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface KnowledgeConfig {
  /** Port it listens on (`KNOWLEDGE_PORT`). */
  port: number;
}

const schema = z
  .object({ KNOWLEDGE_PORT: port(DEFAULT_PORT) })
  .transform((env): KnowledgeConfig => ({ port: env.KNOWLEDGE_PORT }));

/** Reads and validates the knowledge subgraph's settings. */
export function loadKnowledgeConfig(env: Env = process.env): KnowledgeConfig {
  return parseEnv(schema, env);
}
