import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

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

/** Longest DateTime text looked at; anything longer is refused without being parsed. */
const MAX_DATE_TIME_LENGTH = 40;
/** An RFC 3339 date-time: four-digit year, a time, optional fraction, and a zone (Z or ±hh:mm). */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * Parses a DateTime strictly: RFC 3339 text with a zone, years 0001 to 9999 (PostgreSQL and every
 * client agree on those), and fields that exist (no February 30th, no hour 24). Anything else —
 * numbers, dates without a zone, year 0 or 99999, oversized text — is BAD_USER_INPUT that says so.
 */
export function parseIso(value: unknown): Date {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(
          value.length > MAX_DATE_TIME_LENGTH ? `${value.slice(0, MAX_DATE_TIME_LENGTH)}…` : value,
        )
      : typeof value;
  const refuse = (why: string) =>
    new GraphQLError(
      `DateTime must be an ISO 8601 string such as 2026-11-25T18:00:00Z; ${why} (got ${shown})`,
      { extensions: { code: 'BAD_USER_INPUT' } },
    );
  if (typeof value !== 'string') throw refuse('it is not a string');
  if (value.length > MAX_DATE_TIME_LENGTH)
    throw refuse(`it is longer than ${MAX_DATE_TIME_LENGTH} characters`);
  const match = ISO_DATE_TIME.exec(value);
  if (!match) throw refuse('write the date, the time and a zone (Z or ±hh:mm)');
  const [year, month, day, hour, minute, second, zoneHour, zoneMinute] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)));
  if (year! < 1) throw refuse('the year must be between 0001 and 9999');
  if (
    month! < 1 ||
    month! > 12 ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59 ||
    zoneHour! > 23 ||
    zoneMinute! > 59
  )
    throw refuse('a month, hour, minute, second or zone is out of range');
  const days = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! < 1 || day! > days) throw refuse(`that month has ${days} days`);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw refuse('it is not a valid date');
  return date;
}

/** Most keys a JSONObject may hold at any level, and its deepest nesting: bounded so input cannot exhaust memory. */
const JSON_OBJECT_MAX_KEYS = 1000;
const JSON_OBJECT_MAX_DEPTH = 16;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A JSON object (tool arguments, document metadata): keys are strings, values any JSON value. Strings may not
 * hold NUL or lone UTF-16 surrogates (PostgreSQL's jsonb refuses them); the error names the offending path.
 */
export const JSONObjectScalar = new GraphQLScalarType<Record<string, unknown>, Record<string, unknown>>({
  name: 'JSONObject',
  description: 'A JSON object, e.g. {"to": "ops@example.com"}',
  serialize(value) {
    return checkObject(value, 'JSONObject');
  },
  parseValue(value) {
    return checkObject(value, 'JSONObject');
  },
  parseLiteral(ast, variables) {
    if (ast.kind !== Kind.OBJECT) throw badJson('JSONObject must be an object such as {"key": "value"}');
    return checkObject(literalValue(ast, variables), 'JSONObject');
  },
});

function badJson(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

function checkObject(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badJson(`${path} must be a JSON object (got ${Array.isArray(value) ? 'an array' : typeof value})`);
  }
  let keys = 0;
  const walk = (v: unknown, at: string, depth: number): void => {
    if (depth > JSON_OBJECT_MAX_DEPTH)
      throw badJson(`${at} nests deeper than ${JSON_OBJECT_MAX_DEPTH} levels`);
    if (typeof v === 'string') {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what jsonb refuses
      if (/\u0000/.test(v)) throw badJson(`${at} holds a NUL character`);
      if (LONE_SURROGATE.test(v)) throw badJson(`${at} holds a lone UTF-16 surrogate`);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw badJson(`${at} is not a finite number`);
    } else if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) walk(item, `${at}[${i}]`, depth + 1);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (++keys > JSON_OBJECT_MAX_KEYS)
          throw badJson(`${path} has more than ${JSON_OBJECT_MAX_KEYS} keys`);
        walk(k, `${at} key`, depth + 1);
        walk(item, `${at}.${k}`, depth + 1);
      }
    } else if (typeof v !== 'boolean' && v !== null) {
      throw badJson(`${at} is not a JSON value`);
    }
  };
  walk(value, path, 0);
  return value as Record<string, unknown>;
}

function literalValue(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalValue(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalValue(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      throw badJson(`JSONObject cannot hold ${ast.kind}`);
  }
}
