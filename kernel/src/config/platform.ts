import { type AuthConfig, authSchema } from './auth.ts';
import { type DatabaseConfig, databaseSchema } from './database.ts';
import { collect, type Env, readEnv } from './env.ts';
import { httpSchema } from './http.ts';
import { type NodeEnv, runtimeSchema } from './runtime.ts';
import { type TelemetryConfig, telemetrySchema } from './telemetry.ts';

/** What every process needs: where the database is, how identities are verified, how to listen and log. */
export interface PlatformConfig extends TelemetryConfig {
  nodeEnv: NodeEnv;
  /** Interface every service listens on. */
  host: string;
  introspection: boolean;
  dataDir: string;
  database: DatabaseConfig;
  auth: AuthConfig;
}

/**
 * Reads and validates the configuration every process shares, once; every problem is reported
 * together. A process's own settings (its port, whom it calls) are read by its own config module.
 */
export function loadConfig(env: Env = process.env): PlatformConfig {
  const runtime = readEnv(runtimeSchema, env);
  const nodeEnv = runtime.ok ? runtime.value.nodeEnv : 'development';
  const { database, http, auth, telemetry } = collect({
    runtime,
    database: readEnv(databaseSchema, env),
    http: readEnv(httpSchema(nodeEnv), env),
    auth: readEnv(authSchema(nodeEnv), env),
    telemetry: readEnv(telemetrySchema(nodeEnv), env),
  });
  return { nodeEnv, ...http, ...database, auth, ...telemetry };
}
