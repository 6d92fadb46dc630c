import { z } from 'zod';
import { httpUrl, port } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';

/** Default port of the governance subgraph. */
export const DEFAULT_PORT = 4003;
/** Where governance asks about tasks unless `AGENT_URL` says otherwise (the agent subgraph's default address). */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:4002/graphql';

/** How long an approval request may wait for its decision (and an approval be used) by default. */
export const DEFAULT_APPROVAL_TTL_MS = 24 * 3600_000;
/** How often expired requests are looked for. */
export const DEFAULT_APPROVAL_SWEEP_MS = 30_000;

const durationUnitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** Parses a duration such as `24h`, `90m`, `30s`, `500ms` or `2d` into milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * durationUnitMs[match[2]!]!;
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
  GOVERNANCE_PORT: port(DEFAULT_PORT),
  AGENT_URL: httpUrl(),
  APPROVAL_TTL: duration('APPROVAL_TTL', 1000),
  APPROVAL_SWEEP_INTERVAL: duration('APPROVAL_SWEEP_INTERVAL', 100),
});

/** The governance domain's settings. */
export interface GovernanceConfig {
  /** Port it listens on (`GOVERNANCE_PORT`). */
  port: number;
  /** The agent subgraph's GraphQL endpoint, asked whether a task exists (`AGENT_URL`). */
  agentUrl: string;
  approvalTtlMs: number;
  approvalSweepMs: number;
}

/** Reads and validates the governance settings; ConfigError names every wrong variable. */
export function loadGovernanceConfig(env: NodeJS.ProcessEnv = process.env): GovernanceConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) =>
        i.message.startsWith(String(i.path[0])) ? i.message : `${i.path.join('.')} ${i.message}`,
      ),
    );
  return {
    port: parsed.data.GOVERNANCE_PORT,
    agentUrl: parsed.data.AGENT_URL ?? DEFAULT_AGENT_URL,
    approvalTtlMs: parsed.data.APPROVAL_TTL ?? DEFAULT_APPROVAL_TTL_MS,
    approvalSweepMs: parsed.data.APPROVAL_SWEEP_INTERVAL ?? DEFAULT_APPROVAL_SWEEP_MS,
  };
}
