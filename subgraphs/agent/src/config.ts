import { z } from 'zod';
import { port } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';
import { type GenerationsConfig, type LlmConfig, loadGenerationsConfig, loadLlmConfig } from '#llm/config.ts';

/** Default port of the agent subgraph. */
export const DEFAULT_PORT = 4002;

/** Attempts a step gets when its tool fails (a crash of the runner is not an attempt). */
export const DEFAULT_STEP_MAX_ATTEMPTS = 3;
/** How long one tool call may take before it is aborted. */
export const DEFAULT_STEP_TIMEOUT_MS = 60_000;
/** Largest response body `http.get` reads. */
export const DEFAULT_HTTP_MAX_BYTES = 1024 * 1024;
/**
 * How often an in-flight step looks at the kill switch (one primary-key read): the largest share of
 * the time from an engagement to the call's abort (ADR 0029's 250 ms budget).
 */
export const DEFAULT_KILL_SWITCH_POLL_MS = 50;

/** Most tool calls the LLM planner may propose for one task (malformed ones included). */
export const DEFAULT_PLANNER_MAX_STEPS = 20;
/** Most tokens (prompt + completion, all model calls added up) the LLM planner may use for one task. */
export const DEFAULT_PLANNER_MAX_TOKENS = 100_000;
/** Longest time one task's model calls and tool calls may take, added up. */
export const DEFAULT_PLANNER_MAX_TIME_MS = 600_000;

/** An integer setting from `min` to `max`, with one message naming it for every way to get it wrong. */
function boundedInt(name: string, min: number, max: number, fallback: number) {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return z.coerce
    .number({ message })
    .int({ message })
    .min(min, { message })
    .max(max, { message })
    .default(fallback);
}

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

const schema = z.object({
  AGENT_PORT: port(DEFAULT_PORT),
  AGENT_HTTP_ALLOWED_HOSTS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    )
    .refine((hosts) => hosts.every((h) => HOST.test(h)), {
      message: 'AGENT_HTTP_ALLOWED_HOSTS must be comma-separated host names, optionally with :port',
    }),
  AGENT_HTTP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024)
    .default(DEFAULT_HTTP_MAX_BYTES),
  AGENT_EMAIL_TRANSPORT: z
    .enum(['offline', 'graph'], {
      message: 'AGENT_EMAIL_TRANSPORT must be offline or graph',
    })
    .default('offline'),
  AGENT_GRAPH_SENDER: z
    .string()
    .email({ message: 'AGENT_GRAPH_SENDER must be a mailbox address' })
    .optional(),
  AGENT_GRAPH_URL: z
    .url({ message: 'AGENT_GRAPH_URL must be a URL' })
    .default('https://graph.microsoft.com/v1.0'),
  AGENT_STEP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(DEFAULT_STEP_MAX_ATTEMPTS),
  AGENT_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(DEFAULT_STEP_TIMEOUT_MS),
  AGENT_PLANNER_MAX_STEPS: boundedInt('AGENT_PLANNER_MAX_STEPS', 1, 50, DEFAULT_PLANNER_MAX_STEPS),
  AGENT_PLANNER_MAX_TOKENS: boundedInt('AGENT_PLANNER_MAX_TOKENS', 1, 10_000_000, DEFAULT_PLANNER_MAX_TOKENS),
  AGENT_PLANNER_MAX_TIME_MS: boundedInt(
    'AGENT_PLANNER_MAX_TIME_MS',
    100,
    86_400_000,
    DEFAULT_PLANNER_MAX_TIME_MS,
  ),
  AGENT_KILL_SWITCH_POLL_MS: z.coerce
    .number({ message: 'AGENT_KILL_SWITCH_POLL_MS must be a whole number of milliseconds from 10 to 5000' })
    .int({ message: 'AGENT_KILL_SWITCH_POLL_MS must be a whole number of milliseconds from 10 to 5000' })
    .min(10, { message: 'AGENT_KILL_SWITCH_POLL_MS must be a whole number of milliseconds from 10 to 5000' })
    .max(5000, {
      message: 'AGENT_KILL_SWITCH_POLL_MS must be a whole number of milliseconds from 10 to 5000',
    })
    .default(DEFAULT_KILL_SWITCH_POLL_MS),
});

/** Bounds of one task the LLM planner plans; each one hit fails the task, naming it. */
export interface PlannerBounds {
  /** Tool calls the model may propose (`AGENT_PLANNER_MAX_STEPS`). */
  maxSteps: number;
  /** Tokens of all its model calls added up (`AGENT_PLANNER_MAX_TOKENS`). */
  maxTokens: number;
  /** Time of its model calls and tool calls added up (`AGENT_PLANNER_MAX_TIME_MS`). */
  maxTimeMs: number;
}

/** The agent domain's settings. */
export interface AgentConfig {
  /** Port it listens on (`AGENT_PORT`). */
  port: number;
  http: { allowedHosts: string[]; maxBytes: number };
  email: { transport: 'offline' | 'graph'; graphSender?: string; graphUrl: string };
  steps: { maxAttempts: number; timeoutMs: number; killSwitchPollMs: number };
  /** The LLM planner's bounds. */
  planner: PlannerBounds;
  /** The language model the planner uses (`LLM_*`, shared with the knowledge subgraph); offline: none. */
  llm: LlmConfig;
  /** How the planner's model calls are recorded (LLM_REDACT, LLM_PRICES; ADR 0037). */
  generations: GenerationsConfig;
}

/** Reads and validates the agent settings from `env`; ConfigError names every wrong variable. */
export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const parsed = schema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) =>
        i.message.startsWith('AGENT_') ? i.message : `${String(i.path[0])}: ${i.message}`,
      );
  let llm: LlmConfig | undefined;
  let generations: GenerationsConfig | undefined;
  try {
    llm = loadLlmConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  try {
    generations = loadGenerationsConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (!parsed.success || !llm || !generations) throw new ConfigError(problems);
  const v = parsed.data;
  if (v.AGENT_EMAIL_TRANSPORT === 'graph' && !v.AGENT_GRAPH_SENDER) {
    throw new ConfigError(['AGENT_GRAPH_SENDER must be set when AGENT_EMAIL_TRANSPORT=graph']);
  }
  return {
    port: v.AGENT_PORT,
    http: { allowedHosts: v.AGENT_HTTP_ALLOWED_HOSTS, maxBytes: v.AGENT_HTTP_MAX_BYTES },
    email: {
      transport: v.AGENT_EMAIL_TRANSPORT,
      ...(v.AGENT_GRAPH_SENDER ? { graphSender: v.AGENT_GRAPH_SENDER } : {}),
      graphUrl: v.AGENT_GRAPH_URL,
    },
    steps: {
      maxAttempts: v.AGENT_STEP_MAX_ATTEMPTS,
      timeoutMs: v.AGENT_STEP_TIMEOUT_MS,
      killSwitchPollMs: v.AGENT_KILL_SWITCH_POLL_MS,
    },
    planner: {
      maxSteps: v.AGENT_PLANNER_MAX_STEPS,
      maxTokens: v.AGENT_PLANNER_MAX_TOKENS,
      maxTimeMs: v.AGENT_PLANNER_MAX_TIME_MS,
    },
    llm,
    generations,
  };
}
