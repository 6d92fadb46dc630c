import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from './operation-limits.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Each limit: its variable, the name it had when only the gateway enforced it, and its range. */
const VARIABLES: Record<keyof OperationLimits, { name: string; legacy?: string; min: number; max: number }> =
  {
    maxDepth: { name: 'GRAPHQL_MAX_DEPTH', legacy: 'GATEWAY_MAX_DEPTH', min: 1, max: 1_000 },
    maxAliases: { name: 'GRAPHQL_MAX_ALIASES', legacy: 'GATEWAY_MAX_ALIASES', min: 1, max: 10_000 },
    maxDirectives: { name: 'GRAPHQL_MAX_DIRECTIVES', min: 1, max: 10_000 },
    maxCost: { name: 'GRAPHQL_MAX_COST', legacy: 'GATEWAY_MAX_COST', min: 1, max: 100_000_000 },
    maxTokens: { name: 'GRAPHQL_MAX_TOKENS', legacy: 'GATEWAY_MAX_TOKENS', min: 10, max: 1_000_000 },
    maxEntities: { name: 'GRAPHQL_MAX_ENTITIES', min: 1, max: 1_000_000 },
    listSize: { name: 'GRAPHQL_LIST_SIZE', min: 1, max: 10_000 },
    maxResolvedFields: { name: 'GRAPHQL_MAX_RESOLVED_FIELDS', min: 1, max: 100_000_000 },
  };

const wholeNumber = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`));

/**
 * Reads the operation limits every GraphQL service enforces (`GRAPHQL_MAX_*`, `GRAPHQL_LIST_SIZE`;
 * the older `GATEWAY_MAX_*` names still count when the new one is unset). Read once at start-up;
 * every problem is reported together, by variable name.
 */
export function loadOperationLimits(env: Env = process.env): OperationLimits {
  const problems: string[] = [];
  const limits = { ...DEFAULT_OPERATION_LIMITS };
  for (const [key, variable] of Object.entries(VARIABLES) as [
    keyof OperationLimits,
    (typeof VARIABLES)[keyof OperationLimits],
  ][]) {
    const given = env[variable.name] ?? (variable.legacy ? env[variable.legacy] : undefined);
    if (given === undefined || given === '') continue;
    const name = env[variable.name] === undefined && variable.legacy ? variable.legacy : variable.name;
    const parsed = wholeNumber(name, variable.min, variable.max).safeParse(given);
    if (parsed.success) limits[key] = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => issue.message));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return limits;
}
