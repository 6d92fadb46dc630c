import { ValidationError } from '../errors.ts';
import { isUuid } from '../ids.ts';

/** Page size when `first` is not given. */
export const DEFAULT_PAGE_SIZE = 20;
/** Largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

/** Relay pagination arguments as they arrive from GraphQL. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Position after which the next page starts, in (createdAt desc, id desc) order. */
export interface Keyset {
  at: Date;
  id: string;
}

/** Validated pagination: how many rows and where to start. */
export interface PageRequest {
  first: number;
  after: Keyset | undefined;
}

/** A Relay connection. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

/** Validates `first`/`after`, with messages that say the allowed range. */
export function parsePageArgs(args: PageArgs): PageRequest {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw new ValidationError(`first must be between 1 and ${MAX_PAGE_SIZE} (got ${first})`, {
      argument: 'first',
      max: MAX_PAGE_SIZE,
    });
  }
  return { first, after: args.after ? decodeCursor(args.after) : undefined };
}

/** Encodes a keyset position as an opaque cursor. */
export function encodeCursor(key: Keyset): string {
  return Buffer.from(`${key.at.toISOString()}|${key.id}`, 'utf8').toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; anything else is a client error. */
export function decodeCursor(cursor: string): Keyset {
  const invalid = () =>
    new ValidationError('after is not a valid cursor; use a cursor returned by this list', {
      argument: 'after',
    });
  if (typeof cursor !== 'string' || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const [iso, id, extra] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  // Exactly what encodeCursor writes: a UTC ISO time of years 0001-9999 and a UUID, nothing more,
  // so nothing a client made up reaches the database as a timestamp or a uuid.
  if (extra !== undefined || !iso || !id || !CURSOR_TIME.test(iso) || !isUuid(id)) throw invalid();
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== iso || at.getUTCFullYear() < 1) throw invalid();
  return { at, id: id.toLowerCase() };
}

const CURSOR_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Builds a connection from up to `first + 1` rows (the extra row only signals a next page). */
export function toConnection<T>(rows: T[], page: PageRequest, key: (row: T) => Keyset): Connection<T> {
  const nodes = rows.slice(0, page.first);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(key(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > page.first,
      hasPreviousPage: page.after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
