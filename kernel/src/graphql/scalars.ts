import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

/** ISO 8601 date-time with a time zone, e.g. `2026-11-25T18:00:00.000Z`. */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO 8601 date-time in UTC, e.g. 2026-11-25T18:00:00.000Z',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    return parseIso(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw new GraphQLError('DateTime must be a string such as 2026-11-25T18:00:00Z');
    return parseIso(ast.value);
  },
});

function parseIso(value: unknown): Date {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new GraphQLError(
      `DateTime must be an ISO 8601 string such as 2026-11-25T18:00:00Z (got ${JSON.stringify(value)})`,
      {
        extensions: { code: 'BAD_USER_INPUT' },
      },
    );
  }
  return date;
}
