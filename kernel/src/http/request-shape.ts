import { createHash } from 'node:crypto';

/** Why a GraphQL-over-HTTP request is malformed, in words the caller can act on; undefined when it is not. */
export interface ShapeProblem {
  message: string;
  /** The request member at fault (`variables`, `extensions.persistedQuery.sha256Hash`, …). */
  field: string;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

const typeName = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : typeof value;

/**
 * Checks the members of one GraphQL request (a POST body or the parameters of a GET) before any
 * server code reads them: `query` a string, `operationName` a string, `variables` and `extensions`
 * objects, and `extensions.persistedQuery` `{ version: 1, sha256Hash: <64 hex digits> }`. Apollo
 * checks some of these itself; the rest (a persisted query of the wrong shape) would otherwise fail
 * deep in the server as an internal error.
 */
export function requestShapeProblem(request: unknown): ShapeProblem | undefined {
  if (Array.isArray(request)) {
    return {
      field: 'body',
      message: 'Operation batching is not accepted: send one operation (a JSON object) per request',
    };
  }
  if (typeof request !== 'object' || request === null) {
    return {
      field: 'body',
      message: `The request body must be a JSON object such as {"query": "{ __typename }"} (got ${typeName(request)})`,
    };
  }
  const { query, operationName, variables, extensions } = request as Record<string, unknown>;
  if (query !== undefined && query !== null && typeof query !== 'string')
    return {
      field: 'query',
      message: `query must be a string holding a GraphQL document (got ${typeName(query)})`,
    };
  if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
    return {
      field: 'operationName',
      message: `operationName must be a string naming an operation of the document (got ${typeName(operationName)})`,
    };
  for (const [name, value] of [
    ['variables', variables],
    ['extensions', extensions],
  ] as const) {
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value)))
      return { field: name, message: `${name} must be a JSON object (got ${typeName(value)})` };
  }
  const persisted = (extensions as Record<string, unknown> | null | undefined)?.persistedQuery;
  if (persisted === undefined || persisted === null) {
    if (typeof query === 'string' && query.trim() !== '') return undefined;
    return {
      field: 'query',
      message: 'The request holds no query: send a GraphQL document in query (or a persisted query hash)',
    };
  }
  if (typeof persisted !== 'object' || Array.isArray(persisted))
    return {
      field: 'extensions.persistedQuery',
      message: `extensions.persistedQuery must be an object {"version": 1, "sha256Hash": "<64 hex digits>"} (got ${typeName(persisted)})`,
    };
  const { version, sha256Hash } = persisted as Record<string, unknown>;
  if (version !== 1)
    return {
      field: 'extensions.persistedQuery.version',
      message: `extensions.persistedQuery.version must be 1 (got ${JSON.stringify(version)?.slice(0, 40) ?? typeName(version)})`,
    };
  if (typeof sha256Hash !== 'string' || !SHA256_HEX.test(sha256Hash))
    return {
      field: 'extensions.persistedQuery.sha256Hash',
      message:
        'extensions.persistedQuery.sha256Hash must be the SHA-256 of the query as 64 hexadecimal digits',
    };
  if (
    typeof query === 'string' &&
    createHash('sha256').update(query).digest('hex') !== sha256Hash.toLowerCase()
  )
    return {
      field: 'extensions.persistedQuery.sha256Hash',
      message: 'extensions.persistedQuery.sha256Hash is not the SHA-256 of the query sent with it',
    };
  return undefined;
}

/** The members of a GET request's query string, JSON members parsed; a problem when they do not parse. */
export function getRequestOf(
  search: string,
): { request: Record<string, unknown> } | { problem: ShapeProblem } {
  const params = new URLSearchParams(search);
  const request: Record<string, unknown> = {};
  for (const name of ['query', 'operationName'] as const) {
    const value = params.get(name);
    if (value !== null) request[name] = value;
  }
  for (const name of ['variables', 'extensions'] as const) {
    const value = params.get(name);
    if (value === null) continue;
    try {
      request[name] = JSON.parse(value);
    } catch {
      return { problem: { field: name, message: `${name} must be URL-encoded JSON (it does not parse)` } };
    }
  }
  return { request };
}
