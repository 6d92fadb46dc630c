// The gateway's HTTP client to its subgraphs: one undici keep-alive pool per subgraph origin,
// timeouts on every request, and nothing per call beyond the request itself (the default client of
// @apollo/gateway, make-fetch-happen, builds a node-fetch Request and captures a stack trace each time).
import { Pool } from 'undici';
import { UnavailableError } from '#kernel/errors.ts';
import {
  DEFAULT_SUBGRAPH_CONNECTIONS,
  DEFAULT_SUBGRAPH_KEEP_ALIVE_MS,
  DEFAULT_SUBGRAPH_TIMEOUT_MS,
  type SubgraphFetcherConfig,
} from './subgraph-fetcher-config.ts';

/** What a subgraph answered: status, the headers the gateway reads, and the raw body. */
export interface SubgraphResponse {
  status: number;
  contentType: string | undefined;
  cacheControl: string | undefined;
  body: string;
}

/** One request to a subgraph. */
export interface SubgraphRequest {
  /** The subgraph's name, for error messages. */
  subgraph: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** POSTs GraphQL requests to subgraphs over pooled keep-alive connections. */
export interface SubgraphFetcher {
  /**
   * Sends `body` to `url` with exactly `headers`; a timeout or refused connection throws
   * {@link UnavailableError} naming `subgraph` (never its internal URL).
   */
  post(request: SubgraphRequest): Promise<SubgraphResponse>;
  /** Closes every pool (in-flight requests finish first). */
  close(): Promise<void>;
}

const DEFAULTS: SubgraphFetcherConfig = {
  timeoutMs: DEFAULT_SUBGRAPH_TIMEOUT_MS,
  connections: DEFAULT_SUBGRAPH_CONNECTIONS,
  keepAliveMs: DEFAULT_SUBGRAPH_KEEP_ALIVE_MS,
};

/** Creates a fetcher; pools are opened on the first request to each origin. */
export function createSubgraphFetcher(config: Partial<SubgraphFetcherConfig> = {}): SubgraphFetcher {
  const { timeoutMs, connections, keepAliveMs } = { ...DEFAULTS, ...config };
  const pools = new Map<string, Pool>();
  // Parsed once per URL: the gateway calls a handful of fixed subgraph URLs.
  const targets = new Map<string, { pool: Pool; path: string }>();
  const target = (url: string) => {
    let found = targets.get(url);
    if (!found) {
      const { origin, pathname, search } = new URL(url);
      let pool = pools.get(origin);
      if (!pool) {
        pool = new Pool(origin, {
          connections,
          keepAliveTimeout: keepAliveMs,
          connectTimeout: timeoutMs,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        pools.set(origin, pool);
      }
      found = { pool, path: `${pathname}${search}` };
      targets.set(url, found);
    }
    return found;
  };
  const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);

  return {
    post({ subgraph, url, headers, body }) {
      const { pool, path } = target(url);
      // dispatch with a handler of our own: no Readable stream or body mixin per response.
      return new Promise<SubgraphResponse>((resolve, reject) => {
        let status = 0;
        let contentType: string | undefined;
        let cacheControl: string | undefined;
        const chunks: Buffer[] = [];
        pool.dispatch(
          { method: 'POST', path, headers, body },
          {
            onRequestStart() {},
            onResponseStart(_controller, statusCode, responseHeaders) {
              status = statusCode;
              contentType = header(responseHeaders['content-type']);
              cacheControl = header(responseHeaders['cache-control']);
            },
            onResponseData(_controller, chunk) {
              chunks.push(chunk);
            },
            onResponseEnd() {
              const text =
                chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
              resolve({ status, contentType, cacheControl, body: text });
            },
            onResponseError(_controller, error) {
              reject(unavailable(error, subgraph, timeoutMs));
            },
          },
        );
      });
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
      pools.clear();
      targets.clear();
    },
  };
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** Codes of our own mistakes, not of the subgraph's: internal errors. */
const USAGE_CODES = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_INVALID_RETURN_VALUE', 'UND_ERR_NOT_SUPPORTED']);

/**
 * A subgraph that does not answer in time or refuses the connection: 503 naming the subgraph, no
 * internals. Read by `code`, not instanceof: socket errors may come from another realm (a test sandbox).
 */
function unavailable(error: unknown, subgraph: string, timeoutMs: number): Error {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  if (code && TIMEOUT_CODES.has(code)) {
    return new UnavailableError(
      `The ${subgraph} subgraph did not answer within ${timeoutMs} ms; try again shortly`,
      {},
      { cause: error },
    );
  }
  if (code && !USAGE_CODES.has(code))
    return new UnavailableError(
      `The ${subgraph} subgraph cannot be reached; try again shortly`,
      {},
      { cause: error },
    );
  return error instanceof Error ? error : new Error(String(error));
}
