import { z } from 'zod';
import { ConfigError } from '#kernel/errors.ts';

/** How long an approval request may wait for its decision (and an approval be used) by default. */
export const DEFAULT_APPROVAL_TTL_MS = 24 * 3600_000;
/** How often expired requests are looked for. */
export const DEFAULT_APPROVAL_SWEEP_MS = 30_000;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** Parses a duration such as `24h`, `90m`, `30s`, `500ms` or `2d` into milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNITS[match[2]!]!;
}

const duration = (name: string, min: number) =>
  z
    .string()
    .transform((v, ctx) => {
      const ms = parseDuration(v);
      if (ms === undefined || ms < min) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a duration such as 24h, 90m or 30s (at least ${min} ms)`,
        });
        return z.NEVER;
      }
      return ms;
    })
    .optional();

const schema = z.object({
  APPROVAL_TTL: duration('APPROVAL_TTL', 1000),
  APPROVAL_SWEEP_INTERVAL: duration('APPROVAL_SWEEP_INTERVAL', 100),
});

/** The governance domain's settings. */
export interface GovernanceConfig {
  approvalTtlMs: number;
  approvalSweepMs: number;
}

/** Reads and validates the governance settings; ConfigError names every wrong variable. */
export function loadGovernanceConfig(env: NodeJS.ProcessEnv = process.env): GovernanceConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((i) => i.message));
  return {
    approvalTtlMs: parsed.data.APPROVAL_TTL ?? DEFAULT_APPROVAL_TTL_MS,
    approvalSweepMs: parsed.data.APPROVAL_SWEEP_INTERVAL ?? DEFAULT_APPROVAL_SWEEP_MS,
  };
}
