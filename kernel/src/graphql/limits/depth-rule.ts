import type { ValidationRule } from 'graphql';
import { armorRule } from './armor-rule.ts';

/**
 * Refuses an operation nested deeper than `max` (graphql-armor's max-depth): fragments are expanded and
 * introspection counts like any other selection (the standard introspection query is 15 deep).
 */
export function depthRule(max: number): ValidationRule {
  return armorRule(
    'maxDepth',
    { flattenFragments: true, ignoreIntrospection: false },
    { code: 'QUERY_TOO_DEEP', limit: 'depth', max, hint: 'Ask for less nesting.' },
  );
}
