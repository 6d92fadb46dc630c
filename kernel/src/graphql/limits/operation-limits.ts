import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';

/** The limits every GraphQL service (gateway and subgraphs) enforces on every operation. */
export interface OperationLimits {
  /** Deepest field nesting, fragments expanded. */
  maxDepth: number;
  /** Aliased fields of one operation, through its fragments. */
  maxAliases: number;
  /** Directives of one operation, through its fragments. */
  maxDirectives: number;
  /** Estimated cost (see `measureCost`). */
  maxCost: number;
  /** Lexical tokens of one document; the parser stops there. */
  maxTokens: number;
  /** Representations one `_entities` call may resolve. */
  maxEntities: number;
  /** Items assumed for a list field without `first`/`last`. */
  listSize: number;
  /**
   * Fields one request may resolve while it executes: the cost is an estimate (a list without `first`
   * counts `listSize` items whatever it holds), this is the measured bound behind it.
   */
  maxResolvedFields: number;
}

/** The defaults, which every query of the existing suites stays well inside. */
export const DEFAULT_OPERATION_LIMITS: Readonly<OperationLimits> = {
  maxDepth: 15,
  maxAliases: 20,
  maxDirectives: 50,
  maxCost: 10_000,
  maxTokens: 3_000,
  maxEntities: 1_000,
  listSize: 20,
  maxResolvedFields: 50_000,
};

/** Items assumed for a list field, or a paginated field without `first`/`last`, by default. */
export const DEFAULT_LIST_SIZE = DEFAULT_OPERATION_LIMITS.listSize;

/** Stable codes of limit refusals, in `extensions.code`. */
export const LimitCode = {
  TooDeep: 'QUERY_TOO_DEEP',
  TooManyAliases: 'TOO_MANY_ALIASES',
  TooManyDirectives: 'TOO_MANY_DIRECTIVES',
  TooCostly: 'QUERY_TOO_COSTLY',
  TooLarge: 'QUERY_TOO_LARGE',
  TooManyEntities: 'TOO_MANY_ENTITIES',
  TooManySubscriptions: 'TOO_MANY_SUBSCRIPTIONS',
  ResultTooLarge: 'RESULT_TOO_LARGE',
} as const;

/** One of the limit codes. */
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/** Every limit code, for error formatting. */
export const LIMIT_CODES: ReadonlySet<string> = new Set(Object.values(LimitCode));

const WHAT: Record<LimitCode, (found: number) => string> = {
  QUERY_TOO_DEEP: (n) => `The query is nested ${n} levels deep`,
  TOO_MANY_ALIASES: (n) => `The query uses ${n} aliases`,
  TOO_MANY_DIRECTIVES: (n) => `The query uses ${n} directives`,
  QUERY_TOO_COSTLY: (n) => `The query's estimated cost is ${n}`,
  QUERY_TOO_LARGE: (n) => `The query has ${n} tokens`,
  TOO_MANY_ENTITIES: (n) => `The request asks for ${n} entity representations`,
  TOO_MANY_SUBSCRIPTIONS: (n) => `The connection holds ${n} subscriptions`,
  RESULT_TOO_LARGE: (n) => `The result grew past ${n} fields`,
};

/**
 * A refusal naming the limit, the value found and the maximum (HTTP 400). `extensions` carry
 * `limit`, `found` and `max` for programs.
 */
export function limitError(
  code: LimitCode,
  limit: string,
  found: number,
  max: number,
  hint: string,
): GraphQLError {
  return new GraphQLError(`${WHAT[code](found)}; the ${limit} limit is ${max}. ${hint}`, {
    extensions: { code, limit, found, max, http: { status: 400 } },
  });
}

/** Counts the lexical tokens of a query, stopping once past `stopAfter`. */
export function countTokens(query: string, stopAfter = Number.POSITIVE_INFINITY): number {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      count += 1;
      if (count > stopAfter) break;
    }
  } catch {
    // A lexing error ends the count; the parser reports the syntax error itself.
  }
  return count;
}

/** The refusal of a document with more than `maxTokens` tokens. */
export function tooLargeError(found: number, maxTokens: number): GraphQLError {
  return limitError('QUERY_TOO_LARGE', 'token', found, maxTokens, 'Send a smaller query.');
}

/** The parser's own message when `maxTokens` stops it (graphql 16 spells it "more that"). */
const TOKEN_LIMIT_MESSAGE = /Document contains more (?:than|that) (\d+) tokens/;

/**
 * The parser's token-limit abort as QUERY_TOO_LARGE with the exact count (lexing is cheap and only on
 * this path), or `undefined` when `message` is another syntax error.
 */
export function tokenLimitRefusal(message: string, source: string | undefined): GraphQLError | undefined {
  const match = TOKEN_LIMIT_MESSAGE.exec(message);
  if (!match) return undefined;
  const max = Number(match[1]);
  return tooLargeError(source === undefined ? max + 1 : countTokens(source), max);
}
