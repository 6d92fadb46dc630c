import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { createFormatError } from '#kernel/graphql/errors.ts';
import type { Logger } from '#kernel/logger.ts';
import { countTokens, LIMIT_CODES, tooLargeError } from './operation-limits.ts';

/** The parser's own message when `parseOptions.maxTokens` stops it (graphql 16 spells it "more that"). */
const TOKEN_LIMIT_MESSAGE = /Document contains more (?:than|that) (\d+) tokens/;

/**
 * The gateway's `formatError`: operation-limit refusals keep their code and figures, the parser's
 * token-limit abort becomes QUERY_TOO_LARGE with the exact count, everything else as every service.
 */
export function createGatewayFormatError(logger: Logger) {
  const base = createFormatError(logger);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && LIMIT_CODES.has(code)) {
      const { http: _http, stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      return { message: formatted.message, extensions };
    }
    const tokenLimit = TOKEN_LIMIT_MESSAGE.exec(formatted.message);
    if (code === 'GRAPHQL_PARSE_FAILED' && tokenLimit) {
      const max = Number(tokenLimit[1]);
      const body = sourceOf(error);
      const found = body === undefined ? max + 1 : countTokens(body);
      const refusal = tooLargeError(found, max);
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
