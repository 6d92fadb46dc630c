import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import type { FetchImplementation } from 'jose';

/** How long one request to an identity provider may take. */
export const IDP_REQUEST_TIMEOUT_MS = 10_000;

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP(S) request that trusts `ca` (PEM) for this call only, instead of loosening TLS for
 * the whole process (no NODE_TLS_REJECT_UNAUTHORIZED, no global agent change).
 */
function send(
  url: string,
  init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; signal?: AbortSignal },
  ca: string | undefined,
): Promise<RawResponse> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: init.method,
        headers: init.headers,
        signal: init.signal,
        timeout: IDP_REQUEST_TIMEOUT_MS,
        ...(ca && target.protocol === 'https:' ? { ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${target.origin} timed out`)));
    // Same shape as fetch's network failures, so callers classify it as "unreachable".
    req.on('error', (cause) => reject(new TypeError('fetch failed', { cause })));
    req.end(init.body);
  });
}

/** A fetch for jose's remote JWKS (`customFetch`) that trusts the given CA certificate(s). */
export function jwksFetchTrusting(ca: string): FetchImplementation {
  return async (url, options) => {
    const headers: Record<string, string> = {};
    options.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const res = await send(url, { method: 'GET', headers, signal: options.signal }, ca);
    return new Response(res.body, { status: res.status, headers: res.headers });
  };
}

/** An msal-node network client (`system.networkClient`) that trusts the given CA certificate(s). */
export function msalNetworkClientTrusting(ca: string | undefined): INetworkModule & { requests: number } {
  const client = {
    /** Requests sent so far (token endpoint and metadata), for tests and diagnostics. */
    requests: 0,
    async sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
      client.requests += 1;
      return parse<T>(await send(url, { method: 'GET', headers: options?.headers }, ca));
    },
    async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
      client.requests += 1;
      return parse<T>(
        await send(url, { method: 'POST', headers: options?.headers, body: options?.body ?? '' }, ca),
      );
    },
  };
  return client;
}

function parse<T>(res: RawResponse): NetworkResponse<T> {
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    body = { error: 'invalid_response', error_description: res.body.slice(0, 200) };
  }
  return { status: res.status, headers: res.headers, body: body as T };
}
