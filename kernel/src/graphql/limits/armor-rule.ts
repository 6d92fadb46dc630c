import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationContext, ValidationRule } from 'graphql';
import { type LimitCode, limitError } from './operation-limits.ts';

/** The graphql-armor protections used as single validation rules. */
type Protection = 'maxDepth' | 'maxAliases' | 'maxDirectives';

const PROTECTIONS = [
  'blockFieldSuggestion',
  'costLimit',
  'maxAliases',
  'maxDepth',
  'maxDirectives',
  'maxTokens',
] as const;

/** How a refusal of one protection is reported. */
export interface ArmorRefusal {
  code: LimitCode;
  limit: string;
  max: number;
  hint: string;
}

/** graphql-armor names the count it found in its message; 0 if a later version stops doing so. */
const FOUND = /found (\d+)/;

/**
 * One graphql-armor protection as a validation rule, reporting its refusal with our code and
 * `{ limit, found, max }` instead of armor's generic BAD_USER_INPUT.
 */
export function armorRule(
  protection: Protection,
  options: Record<string, unknown>,
  refusal: ArmorRefusal,
): ValidationRule {
  const report = (ctx: ValidationContext | null, error: GraphQLError) => {
    const found = Number(FOUND.exec(error.message)?.[1] ?? refusal.max + 1);
    ctx?.reportError(limitError(refusal.code, refusal.limit, found, refusal.max, refusal.hint));
  };
  const config: Record<string, unknown> = Object.fromEntries(PROTECTIONS.map((p) => [p, { enabled: false }]));
  config[protection] = {
    ...options,
    enabled: true,
    n: refusal.max,
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [report],
  };
  const { validationRules } = new ApolloArmor(config).protect();
  const [rule] = validationRules;
  if (!rule || validationRules.length !== 1)
    throw new Error(`graphql-armor gave no single ${protection} rule`);
  return rule;
}
