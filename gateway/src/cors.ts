import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The header that carries a request's id, in and out. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** Request headers a browser client on another origin may send. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'apollo-require-preflight',
  REQUEST_ID_HEADER,
];
/** How long a browser may cache a preflight's answer. */
export const CORS_MAX_AGE_SECONDS = 600;

const VALID_REQUEST_ID = /^[\w-]{8,64}$/;

/**
 * The gateway's first step for every HTTP request: gives it a request id (the caller's, when well
 * formed, else a new one) that the response carries in `x-request-id` and the context and subgraphs
 * use, and applies CORS for the configured origins (none by default): an allowed origin's preflight
 * is answered 204 with the methods and headers it may use; its requests get
 * `Access-Control-Allow-Origin` and may read the request id header. Other origins get no CORS headers,
 * so browsers refuse them. Returns true when it answered the request itself.
 */
export function createRequestEntry(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const given = req.headers[REQUEST_ID_HEADER];
    const requestId = typeof given === 'string' && VALID_REQUEST_ID.test(given) ? given : randomUUID();
    req.headers[REQUEST_ID_HEADER] = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const origin = req.headers.origin;
    if (typeof origin !== 'string' || !allowed.has(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    res.setHeader('access-control-expose-headers', REQUEST_ID_HEADER);
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '));
    res.setHeader('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
    res.writeHead(204).end();
    return true;
  };
}

/**
 * Whether a WebSocket upgrade may proceed as far as its `Origin` says: browsers send it (and apply
 * no CORS to WebSockets), other clients usually do not. A request without one, from the gateway's
 * own origin (the console), or from a configured origin passes; a page on any other origin is
 * refused before graphql-ws sees it. Tokens travel in `connection_init`, so this is defence in
 * depth against a page that obtained a token, not the authentication itself.
 */
export function createUpgradeOriginCheck(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    if (allowed.has(origin)) return true;
    try {
      return new URL(origin).host === req.headers.host;
    } catch {
      return false; // "null" (sandboxed frames, file:) and garbage
    }
  };
}
