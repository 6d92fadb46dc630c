import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { isUuid } from '../ids.ts';

/** Environment variables, as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;

/** What a concern's reader returns: its typed settings, or the problems that prevent them. */
export type EnvResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/** A schema over environment variables (keys are variable names) producing typed settings. */
// biome-ignore lint/suspicious/noExplicitAny: any object schema over the environment
export type EnvSchema<T> = z.ZodType<T, any>;

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** A trimmed string; absent and blank are both `undefined`. */
export const text = () =>
  z.preprocess(
    (value) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined),
    z.string().optional(),
  );

/** A whole number from `min` to `max`; absent: `fallback`. */
export const int = (fallback: number, min: number, max: number) =>
  text().transform((raw, ctx) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max} (got "${raw}")` });
    return z.NEVER;
  });

/** A TCP port (0: any free port); absent: `fallback`. */
export const port = (fallback: number) => int(fallback, 0, 65535);

/** `true`/`false` (also 1/0, yes/no, on/off); absent: `fallback`. */
export const bool = (fallback: boolean) =>
  text().transform((raw, ctx) => {
    if (raw === undefined) return fallback;
    const value = raw.toLowerCase();
    if (TRUE.includes(value)) return true;
    if (FALSE.includes(value)) return false;
    ctx.addIssue({ code: 'custom', message: `must be true or false (got "${value}")` });
    return z.NEVER;
  });

/** One of `allowed`; absent: `fallback` (`undefined` when none). */
export function oneOf<const T extends string>(allowed: readonly T[], fallback: T): z.ZodType<T, unknown>;
export function oneOf<const T extends string>(allowed: readonly T[]): z.ZodType<T | undefined, unknown>;
export function oneOf<const T extends string>(allowed: readonly T[], fallback?: T) {
  return text().transform((raw, ctx) => {
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    ctx.addIssue({ code: 'custom', message: `must be one of ${allowed.join(', ')} (got "${raw}")` });
    return z.NEVER;
  });
}

/** A URL of one of `protocols` (e.g. `['redis:', 'rediss:']`), described as `what`; optional. */
export const url = (protocols: readonly string[], what: string) =>
  text().transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    if (URL.canParse(raw) && protocols.includes(new URL(raw).protocol)) return raw;
    ctx.addIssue({ code: 'custom', message: `must be ${what}` });
    return z.NEVER;
  });

/** An http:// or https:// URL; optional. */
export const httpUrl = () => url(['http:', 'https:'], 'an http:// or https:// URL');

/** A postgres:// URL; optional. */
export const postgresUrl = () => url(['postgres:', 'postgresql:'], 'a postgres:// URL');

/** Comma-separated GUIDs, lower-cased and de-duplicated; `what` ends the message ("tenant GUIDs"). */
export const uuidList = (what: string, hint = '') =>
  text().transform((raw, ctx) => {
    const ids = (raw ?? '')
      .split(',')
      .map((id) => id.trim().toLowerCase())
      .filter(Boolean);
    const bad = ids.filter((id) => !isUuid(id));
    if (bad.length === 0) return [...new Set(ids)];
    ctx.addIssue({
      code: 'custom',
      message: `must be comma-separated ${what} (got "${bad.join(', ')}"${hint})`,
    });
    return z.NEVER;
  });

/** An optional GUID, lower-cased; `what` describes it ("a tenant GUID"). */
export const uuid = (what: string) =>
  text().transform((raw, ctx) => {
    if (raw === undefined) return undefined;
    if (isUuid(raw)) return raw.toLowerCase();
    ctx.addIssue({ code: 'custom', message: `must be ${what} (got "${raw}")` });
    return z.NEVER;
  });

/**
 * Runs a rule across variables even when some of them failed their own check (zod skips object
 * refinements after a field issue by default), so every problem is reported at once.
 */
export function rule<T>(check: (value: T, ctx: z.RefinementCtx) => void) {
  return z.superRefine<T>(check, { when: () => true });
}

/** Parses `env` with `schema`; each problem is "VARIABLE must …" (a rule's message names its variables). */
export function readEnv<T>(schema: EnvSchema<T>, env: Env): EnvResult<T> {
  const result = schema.safeParse(env);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: result.error.issues.map((issue) =>
      issue.path.length > 0 && issue.code === 'custom' && !issue.message.startsWith(String(issue.path[0]))
        ? `${issue.path.join('.')} ${issue.message}`
        : issue.message,
    ),
  };
}

/** Combines concerns' results: every value, or a {@link ConfigError} listing every problem. */
export function collect<T extends Record<string, EnvResult<unknown>>>(
  results: T,
): { [K in keyof T]: T[K] extends EnvResult<infer V> ? V : never } {
  const problems = Object.values(results).flatMap((r) => (r.ok ? [] : r.problems));
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.fromEntries(
    Object.entries(results).map(([k, r]) => [k, (r as { value: unknown }).value]),
  ) as never;
}

/** Parses one schema and throws a {@link ConfigError} naming every problem. */
export function parseEnv<T>(schema: EnvSchema<T>, env: Env): T {
  return collect({ value: readEnv(schema, env) }).value as T;
}
