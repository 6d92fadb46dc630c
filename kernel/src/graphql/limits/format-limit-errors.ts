import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { LIMIT_CODES, tokenLimitRefusal } from './operation-limits.ts';

/** A boundary's `formatError`. */
export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

/**
 * Wraps a service's `formatError` so that limit refusals keep their code and figures, and the parser's
 * token-limit abort becomes QUERY_TOO_LARGE with the exact count; everything else goes to `base`.
 */
export function formatLimitErrors(base: FormatError): FormatError {
  return (formatted, error) => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && LIMIT_CODES.has(code)) {
      const { http: _http, stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { message: formatted.message, extensions };
    }
    const refusal =
      code === 'GRAPHQL_PARSE_FAILED' ? tokenLimitRefusal(formatted.message, sourceOf(error)) : undefined;
    if (refusal) {
      const { http: _http, ...extensions } = refusal.extensions;
      return { message: refusal.message, extensions };
    }
    return base(formatted, error);
  };
}

function sourceOf(error: unknown): string | undefined {
  let current = error;
  while (current instanceof GraphQLError) {
    if (current.source) return current.source.body;
    current = current.originalError;
  }
  return undefined;
}
