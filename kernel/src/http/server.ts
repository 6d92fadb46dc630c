import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';
import { type GraphQLFormattedError, Kind, parse } from 'graphql';
import type { RequestRefusal } from '../audit/refusals.ts';
import type { Logger } from '../logger.ts';
import { answerProbe, type ReadinessReport, sendJson } from './probes.ts';
import { getRequestOf, requestShapeProblem } from './request-shape.ts';

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Path of the GraphQL endpoint. */
export const GRAPHQL_PATH = '/graphql';

/**
 * Operations whose requests may exceed {@link MAX_BODY_BYTES} (e.g. a document upload), up to
 * `maxBytes`. A body over the normal limit is accepted only when every root field of its operation
 * is listed; every other request keeps the 1 MiB limit.
 */
export interface LargeBodies {
  readonly maxBytes: number;
  /** Root field names, e.g. `ingestDocument`. */
  readonly rootFields: readonly string[];
}

export type { ReadinessReport } from './probes.ts';

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions<TContext extends BaseContext> {
  host: string;
  port: number;
  apollo: ApolloServer<TContext>;
  context: (req: IncomingMessage) => Promise<TContext>;
  ready: () => Promise<ReadinessReport>;
  logger: Logger;
  /**
   * Called (and awaited) when this server refuses a GraphQL request before it reaches Apollo (body
   * too large, not JSON, malformed members), so the service can audit a verified caller's refusal.
   */
  auditRefusal?: (req: IncomingMessage, refusal: RequestRefusal) => Promise<void>;
  /** Operations allowed a body over {@link MAX_BODY_BYTES} (uploads), and their own limit. */
  largeBodies?: LargeBodies;
  /** Extra routes tried before 404 (the gateway's WebSocket upgrade lives elsewhere). */
  routes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** Routes for every path equal to a key or below it (`/console` serves `/console/…`), tried after `routes`. */
  prefixRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /**
   * Runs first for every request (the gateway's CORS and request id): may set headers on the
   * response, and returns true when it has answered the request itself (a CORS preflight).
   */
  onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /**
   * Rewrites the errors of every GraphQL response this server sends (its own refusals and Apollo's
   * answers alike) before they are written: the gateway's pipeline adds the request id.
   */
  formatErrors?: (errors: GraphQLFormattedError[], req: IncomingMessage) => GraphQLFormattedError[];
}

/** A listening HTTP server. */
export interface RunningHttpServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Serves GraphQL at /graphql, liveness at /health and readiness at /ready. */
export async function startHttpServer<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
): Promise<RunningHttpServer> {
  const { logger } = options;
  const server = createServer((req, res) => {
    if (options.onRequest?.(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (answerProbe(path, req, res, options.ready)) return;
    if (path === GRAPHQL_PATH) {
      handleGraphQL(options, req, res).catch((error: unknown) => {
        logger.error('request failed', { message: error instanceof Error ? error.message : String(error) });
        const errors = formatted(options, req, [{ message: 'Internal server error' }]);
        if (!res.headersSent) sendJson(res, 500, { errors });
        else res.end();
      });
      return;
    }
    const route = path ? options.routes?.[path] : undefined;
    if (route) return route(req, res);
    const prefix = Object.keys(options.prefixRoutes ?? {}).find(
      (p) => path === p || path?.startsWith(`${p}/`),
    );
    if (prefix) return options.prefixRoutes![prefix]!(req, res);
    sendJson(res, 404, { error: `No route for ${req.method} ${path}; GraphQL is at ${GRAPHQL_PATH}` });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
  return {
    server,
    port,
    url: `http://${host}:${port}${GRAPHQL_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Give in-flight requests a moment, then cut what remains so shutdown never hangs.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}

async function handleGraphQL<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { apollo, context, largeBodies } = options;
  const refuse = async (refusal: RequestRefusal, extensions: Record<string, unknown> = {}) => {
    await options
      .auditRefusal?.(req, refusal)
      .catch((error: unknown) =>
        options.logger.error('could not audit a refused request', { error: String(error) }),
      );
    sendJson(res, refusal.status, {
      errors: formatted(options, req, [
        { message: refusal.message, extensions: { code: refusal.code, ...extensions } },
      ]),
    });
  };
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const search = new URL(req.url ?? '/', 'http://localhost').search;
  let body: unknown;
  if (req.method === 'POST') {
    const hardLimit = Math.max(MAX_BODY_BYTES, largeBodies?.maxBytes ?? 0);
    const raw = await readBody(req, hardLimit);
    const tooLarge = (max: number) =>
      refuse(
        { status: 413, code: 'PAYLOAD_TOO_LARGE', message: `Request body exceeds ${max} bytes` },
        { max },
      );
    if (raw === 'too-large') return tooLarge(hardLimit === MAX_BODY_BYTES ? MAX_BODY_BYTES : hardLimit);
    if (
      Buffer.byteLength(raw) > MAX_BODY_BYTES &&
      !(largeBodies && onlyRootFields(raw, largeBodies.rootFields))
    ) {
      return tooLarge(MAX_BODY_BYTES);
    }
    if (raw.length > 0 && /json/i.test(req.headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(raw);
      } catch {
        return refuse({
          status: 400,
          code: 'BAD_REQUEST',
          message: 'Request body is not valid JSON',
          body: raw,
        });
      }
      const problem = requestShapeProblem(body);
      if (problem)
        return refuse(
          { status: 400, code: 'BAD_REQUEST', message: problem.message, body },
          { field: problem.field },
        );
    } else {
      body = raw;
    }
  } else if (req.method === 'GET' && search.length > 1) {
    const parsed = getRequestOf(search);
    const problem = 'problem' in parsed ? parsed.problem : requestShapeProblem(parsed.request);
    if (problem) {
      const sent = 'request' in parsed ? parsed.request : { search };
      return refuse(
        { status: 400, code: 'BAD_REQUEST', message: problem.message, body: sent },
        { field: problem.field },
      );
    }
  }
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: {
      method: (req.method ?? 'GET').toUpperCase(),
      headers,
      search,
      body,
    },
    context: () => context(req),
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(withFormattedErrors(options, req, response.body.string));
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

function formatted<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
  req: IncomingMessage,
  errors: GraphQLFormattedError[],
): GraphQLFormattedError[] {
  return options.formatErrors ? options.formatErrors(errors, req) : errors;
}

/** A complete JSON response with its top-level errors passed through `formatErrors`. */
function withFormattedErrors<TContext extends BaseContext>(
  options: HttpServerOptions<TContext>,
  req: IncomingMessage,
  body: string,
): string {
  // Only a response that may hold errors is parsed again; most answers pass untouched.
  if (!options.formatErrors || !body.includes('"errors"')) return body;
  let parsed: { errors?: unknown };
  try {
    parsed = JSON.parse(body) as { errors?: unknown };
  } catch {
    return body;
  }
  if (!Array.isArray(parsed.errors)) return body;
  return JSON.stringify({ ...parsed, errors: options.formatErrors(parsed.errors, req) });
}

/** Whether a JSON GraphQL request's operation selects only the given root fields. */
function onlyRootFields(raw: string, allowed: readonly string[]): boolean {
  try {
    const body = JSON.parse(raw) as { query?: unknown; operationName?: unknown };
    if (typeof body.query !== 'string') return false;
    const operations = parse(body.query, { maxTokens: 10_000 }).definitions.filter(
      (d) => d.kind === Kind.OPERATION_DEFINITION,
    );
    const operation =
      operations.length === 1 ? operations[0] : operations.find((o) => o.name?.value === body.operationName);
    if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return false;
    return operation.selectionSet.selections.every(
      (s) => s.kind === Kind.FIELD && (s.name.value === '__typename' || allowed.includes(s.name.value)),
    );
  } catch {
    return false;
  }
}

/** Reads a request body of at most `max` bytes as text ("too-large" past it). */
export function readBody(req: IncomingMessage, max: number): Promise<string | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
