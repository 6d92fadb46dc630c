import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '#kernel/errors.ts';

/** How often the chain head of every tenant is checkpointed, by default (one minute). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** The anchor folder under the data folder when AUDIT_ANCHOR_DIR is not set. */
export const DEFAULT_ANCHOR_SUBDIR = 'audit-anchors';
/** The development anchor key under the data folder when AUDIT_ANCHOR_KEY_FILE is not set. */
export const DEV_ANCHOR_KEY_FILE = 'audit-anchor-key.pem';

/** Where the audit subgraph keeps its chain checkpoints and which key signs them. */
export interface AuditConfig {
  /** PEM file of the Ed25519 private key that signs checkpoints. */
  keyFile: string;
  /** True when the key is the development key, generated on first use. */
  generateKey: boolean;
  /** Folder of the append-only file store (one JSON Lines file per tenant). */
  anchorDir: string;
  /** Milliseconds between checkpoint rounds; 0 turns the timer off (on demand only). */
  checkpointIntervalMs: number;
}

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  WIDGETDC_DATA_DIR: z.string().min(1).default('.data'),
  AUDIT_ANCHOR_KEY_FILE: z.string().min(1, 'AUDIT_ANCHOR_KEY_FILE must name a PEM file').optional(),
  AUDIT_ANCHOR_DIR: z.string().min(1, 'AUDIT_ANCHOR_DIR must name a folder').optional(),
  AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce
    .number({ error: 'AUDIT_CHECKPOINT_INTERVAL_MS must be a number of milliseconds' })
    .int('AUDIT_CHECKPOINT_INTERVAL_MS must be a whole number of milliseconds')
    .min(0, 'AUDIT_CHECKPOINT_INTERVAL_MS must be 0 (off) or more')
    .max(86_400_000, 'AUDIT_CHECKPOINT_INTERVAL_MS must be at most 86400000 (a day)')
    .default(DEFAULT_CHECKPOINT_INTERVAL_MS),
});

/**
 * Reads the audit subgraph's configuration once. In production the key must come from
 * AUDIT_ANCHOR_KEY_FILE (a secret the database never sees); elsewhere a key is generated into the
 * data folder on first use.
 */
export function loadAuditConfig(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
      }),
    );
  }
  const values = parsed.data;
  const absolute = (path: string) => (isAbsolute(path) ? path : resolve(path));
  const dataDir = absolute(values.WIDGETDC_DATA_DIR);
  if (values.NODE_ENV === 'production' && !values.AUDIT_ANCHOR_KEY_FILE) {
    throw new ConfigError([
      'AUDIT_ANCHOR_KEY_FILE must name the Ed25519 key (PEM) that signs audit checkpoints in production ' +
        '(e.g. a compose or Kubernetes secret; generate one with: openssl genpkey -algorithm ed25519)',
    ]);
  }
  return {
    keyFile: absolute(values.AUDIT_ANCHOR_KEY_FILE ?? join(dataDir, DEV_ANCHOR_KEY_FILE)),
    generateKey: !values.AUDIT_ANCHOR_KEY_FILE,
    anchorDir: absolute(values.AUDIT_ANCHOR_DIR ?? join(dataDir, DEFAULT_ANCHOR_SUBDIR)),
    checkpointIntervalMs: values.AUDIT_CHECKPOINT_INTERVAL_MS,
  };
}
