import type { ValidationRule } from 'graphql';
import { armorRule } from './armor-rule.ts';

/** Refuses an operation with more than `max` directives, counted through every fragment spread (graphql-armor). */
export function directiveRule(max: number): ValidationRule {
  return armorRule(
    'maxDirectives',
    {},
    { code: 'TOO_MANY_DIRECTIVES', limit: 'directive', max, hint: 'Use fewer directives.' },
  );
}
