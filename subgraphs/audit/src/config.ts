import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { type Env, int, oneOf, parseEnv, port, rule, text } from '#kernel/config.ts';
import { type GenerationsConfig, type LlmConfig, loadGenerationsConfig, loadLlmConfig } from '#llm/config.ts';

/** Default port of the audit subgraph. */
export const DEFAULT_PORT = 4004;
/** How often the chain head of every tenant is checkpointed, by default (one minute). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** The anchor folder under the data folder when AUDIT_ANCHOR_DIR is not set. */
export const DEFAULT_ANCHOR_SUBDIR = 'audit-anchors';
/** The development anchor key under the data folder when AUDIT_ANCHOR_KEY_FILE is not set. */
export const DEV_ANCHOR_KEY_FILE = 'audit-anchor-key.pem';

/** The audit subgraph's own settings (the shared ones come from the kernel's `loadConfig`). */
export interface AuditConfig {
  /** Port it listens on (`AUDIT_PORT`). */
  port: number;
  /** PEM file of the Ed25519 private key that signs checkpoints. */
  keyFile: string;
  /** True when the key is the development key, generated on first use. */
  generateKey: boolean;
  /** Folder of the append-only file store (one JSON Lines file per tenant). */
  anchorDir: string;
  /** Milliseconds between checkpoint rounds; 0 turns the timer off (on demand only). */
  checkpointIntervalMs: number;
}

const absolute = (path: string) => (isAbsolute(path) ? path : resolve(path));

const schema = z
  .object({
    AUDIT_PORT: port(DEFAULT_PORT),
    NODE_ENV: oneOf(['development', 'production', 'test'], 'development'),
    WIDGETDC_DATA_DIR: text(),
    AUDIT_ANCHOR_KEY_FILE: text(),
    AUDIT_ANCHOR_DIR: text(),
    AUDIT_CHECKPOINT_INTERVAL_MS: int(DEFAULT_CHECKPOINT_INTERVAL_MS, 0, 86_400_000),
  })
  .check(
    rule((env, ctx) => {
      if (env.NODE_ENV === 'production' && !env.AUDIT_ANCHOR_KEY_FILE) {
        ctx.addIssue({
          code: 'custom',
          message:
            'AUDIT_ANCHOR_KEY_FILE must name the Ed25519 key (PEM) that signs audit checkpoints in production ' +
            '(e.g. a compose or Kubernetes secret; generate one with: openssl genpkey -algorithm ed25519)',
        });
      }
    }),
  )
  .transform((env): AuditConfig => {
    const dataDir = absolute(env.WIDGETDC_DATA_DIR ?? '.data');
    return {
      port: env.AUDIT_PORT,
      keyFile: absolute(env.AUDIT_ANCHOR_KEY_FILE ?? join(dataDir, DEV_ANCHOR_KEY_FILE)),
      generateKey: !env.AUDIT_ANCHOR_KEY_FILE,
      anchorDir: absolute(env.AUDIT_ANCHOR_DIR ?? join(dataDir, DEFAULT_ANCHOR_SUBDIR)),
      checkpointIntervalMs: env.AUDIT_CHECKPOINT_INTERVAL_MS,
    };
  });

/**
 * Reads the audit subgraph's settings once. In production the key must come from AUDIT_ANCHOR_KEY_FILE
 * (a secret the database never sees); elsewhere a key is generated into the data folder on first use.
 */
export function loadAuditConfig(env: Env = process.env): AuditConfig {
  return parseEnv(schema, env);
}

/** What replayGeneration asks with (ADR 0038): the chat provider (LLM_*) and how calls are recorded (LLM_REDACT, LLM_PRICES). */
export interface ReplayConfig {
  llm: LlmConfig;
  generations: GenerationsConfig;
}

/** Reads the replay settings once, with the same variables and checks as the knowledge and agent services. */
export function loadReplayConfig(env: Env = process.env): ReplayConfig {
  return { llm: loadLlmConfig(env), generations: loadGenerationsConfig(env) };
}
