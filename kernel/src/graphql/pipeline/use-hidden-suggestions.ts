import type { OperationPlugin } from './operation-plugin.ts';

/** graphql-js's suggestions: `Did you mean "x"?`, `… "x" or "y"?`, `… the enum value "X"?`, `… to use an inline fragment on "T"?`. */
const SUGGESTION = / ?Did you mean [^?]*\?/g;

/** Removes graphql-js's "Did you mean …?" suggestions from a message. */
export function withoutSuggestions(message: string): string {
  return message.replace(SUGGESTION, '').trim();
}

/**
 * Production mode: validation and input errors keep their message minus graphql-js's "Did you mean …"
 * suggestions, which would name schema fields, types and enum values that introspection (off in
 * production) hides. graphql-armor's block-field-suggestions masks only the first form and leaves a
 * placeholder; this removes every form.
 */
export function useHiddenSuggestions<TContext>(): OperationPlugin<TContext> {
  return {
    name: 'hidden-suggestions',
    onErrors(errors) {
      for (const error of errors) {
        if (error.message.includes('Did you mean')) error.message = withoutSuggestions(error.message);
      }
    },
  };
}
