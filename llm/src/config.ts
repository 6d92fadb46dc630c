import { z } from 'zod';
import { type Env, httpUrl, int, oneOf, parseEnv, rule, text } from '#kernel/config/env.ts';
import { type ModelPrice, parsePrices } from './generations/prices.ts';
import { parseRedactionRules, type RedactionRule } from './generations/redaction.ts';

/** The chat providers: none (offline answerers, caller-given plans), OpenAI-compatible, Azure OpenAI. */
export const LLM_PROVIDERS = ['offline', 'openai', 'azure'] as const;
/** OpenAI's own endpoint, the default base URL of `LLM_PROVIDER=openai`. */
export const DEFAULT_OPENAI_ENDPOINT = 'https://api.openai.com/v1';
/** Azure OpenAI's data-plane API version used unless `LLM_API_VERSION` says otherwise (GA, has `stream_options`). */
export const DEFAULT_AZURE_API_VERSION = '2024-10-21';
/** Scope of an Entra ID token for Azure OpenAI (Cognitive Services). */
export const DEFAULT_AZURE_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** How long to wait for an answer to start, and between two streamed chunks. */
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;
/** Further attempts after a retryable failure. */
export const DEFAULT_LLM_MAX_RETRIES = 3;

/** Which chat model to use and how to reach it. */
export type LlmConfig =
  | { provider: 'offline' }
  | {
      provider: 'openai';
      /** Base URL; requests go to `<endpoint>/chat/completions`. */
      endpoint: string;
      apiKey: string | undefined;
      model: string;
      timeoutMs: number;
      maxRetries: number;
    }
  | {
      provider: 'azure';
      /** The resource, `https://<name>.openai.azure.com`. */
      endpoint: string;
      deployment: string;
      apiVersion: string;
      /** Absent: an Entra ID token of the service's own identity (AUTH_SERVICE_*), for `scope`. */
      apiKey: string | undefined;
      scope: string;
      /** The model behind the deployment, for labels only (`LLM_MODEL`). */
      model: string | undefined;
      timeoutMs: number;
      maxRetries: number;
    };

const fields = z.object({
  LLM_PROVIDER: oneOf(LLM_PROVIDERS, 'offline'),
  LLM_ENDPOINT: httpUrl(),
  LLM_API_KEY: text(),
  LLM_MODEL: text(),
  LLM_AZURE_DEPLOYMENT: text(),
  LLM_API_VERSION: text(),
  LLM_AZURE_SCOPE: text(),
  LLM_TIMEOUT_MS: int(DEFAULT_LLM_TIMEOUT_MS, 100, 600_000),
  LLM_MAX_RETRIES: int(DEFAULT_LLM_MAX_RETRIES, 0, 10),
});
type LlmEnv = z.output<typeof fields>;

/** The LLM_* variables. */
export const llmSchema = fields
  .check(
    rule<LlmEnv>((env, ctx) => {
      const issue = (message: string) => ctx.addIssue({ code: 'custom', message, input: env });
      if (env.LLM_PROVIDER === 'openai' && !env.LLM_MODEL) {
        issue('LLM_MODEL must be set with LLM_PROVIDER=openai (e.g. gpt-4o-mini)');
      }
      if (env.LLM_PROVIDER === 'azure') {
        if (env.LLM_ENDPOINT === undefined) {
          issue('LLM_ENDPOINT must be set with LLM_PROVIDER=azure (https://<resource>.openai.azure.com)');
        }
        if (!env.LLM_AZURE_DEPLOYMENT) issue('LLM_AZURE_DEPLOYMENT must be set with LLM_PROVIDER=azure');
      }
    }),
  )
  .transform((env): LlmConfig => {
    const common = {
      timeoutMs: env.LLM_TIMEOUT_MS,
      maxRetries: env.LLM_MAX_RETRIES,
      apiKey: env.LLM_API_KEY,
    };
    switch (env.LLM_PROVIDER) {
      case 'offline':
        return { provider: 'offline' };
      case 'openai':
        return {
          provider: 'openai',
          endpoint: env.LLM_ENDPOINT ?? DEFAULT_OPENAI_ENDPOINT,
          model: env.LLM_MODEL!,
          ...common,
        };
      case 'azure':
        return {
          provider: 'azure',
          endpoint: env.LLM_ENDPOINT!,
          deployment: env.LLM_AZURE_DEPLOYMENT!,
          apiVersion: env.LLM_API_VERSION ?? DEFAULT_AZURE_API_VERSION,
          scope: env.LLM_AZURE_SCOPE ?? DEFAULT_AZURE_SCOPE,
          model: env.LLM_MODEL,
          ...common,
        };
    }
  });

/** Reads the LLM settings once; every problem is reported, naming its variable. */
export function loadLlmConfig(env: Env = process.env): LlmConfig {
  return parseEnv(llmSchema, env);
}

/** How model calls are recorded (ADR 0037): what is redacted from stored prompts and answers, and the prices. */
export interface GenerationsConfig {
  /** Redaction rules (`LLM_REDACT`): all by default. */
  redact: RedactionRule[];
  /** USD per 1M input/output tokens by model (`LLM_PRICES` over the defaults). */
  prices: Record<string, ModelPrice>;
  /**
   * Whether model calls are recorded and budgets enforced (`LLM_GENERATIONS=on`, the default); `off`
   * stores no prompt, answer or usage and enforces no budget (spans and metrics stay).
   */
  record: boolean;
}

/** `LLM_REDACT` (`all`, `none`, or `email,secret,cpr,ssn`) and `LLM_PRICES` (JSON, or a JSON file's path). */
export const generationsSchema = z
  .object({
    LLM_REDACT: z.string().optional(),
    LLM_PRICES: z.string().optional(),
    LLM_GENERATIONS: z
      .enum(['on', 'off'], { message: 'LLM_GENERATIONS must be on or off' })
      .optional()
      .default('on'),
  })
  .transform((env, ctx): GenerationsConfig => {
    const read = <T>(parse: () => T, fallback: T): T => {
      try {
        return parse();
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message, input: env });
        return fallback;
      }
    };
    return {
      redact: read(() => parseRedactionRules(env.LLM_REDACT), []),
      prices: read(() => parsePrices(env.LLM_PRICES), {}),
      record: env.LLM_GENERATIONS === 'on',
    };
  });

/** Reads the recording settings once; every problem is reported, naming its variable. */
export function loadGenerationsConfig(env: Env = process.env): GenerationsConfig {
  return parseEnv(generationsSchema, env);
}
