import type { ValidationRule } from 'graphql';
import { armorRule } from './armor-rule.ts';

/** Refuses an operation with more than `max` aliases, counted through every fragment spread (graphql-armor). */
export function aliasRule(max: number): ValidationRule {
  return armorRule(
    'maxAliases',
    {},
    { code: 'TOO_MANY_ALIASES', limit: 'alias', max, hint: 'Use fewer aliases or send several requests.' },
  );
}
