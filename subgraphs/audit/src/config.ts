import { z } from 'zod';
import { type Env, parseEnv, port } from '#kernel/config.ts';

/** Default port of the audit subgraph. */
export const DEFAULT_PORT = 4004;

/** The audit subgraph's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface AuditConfig {
  /** Port it listens on (`AUDIT_PORT`). */
  port: number;
}

const schema = z
  .object({ AUDIT_PORT: port(DEFAULT_PORT) })
  .transform((env): AuditConfig => ({ port: env.AUDIT_PORT }));

/** Reads and validates the audit subgraph's settings. */
export function loadAuditConfig(env: Env = process.env): AuditConfig {
  return parseEnv(schema, env);
}
