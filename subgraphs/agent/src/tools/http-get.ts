import { z } from 'zod';
import { ForbiddenError } from '#kernel/errors.ts';
import { defineTool } from './tool.ts';

/** Options of {@link httpGetTool}. */
export interface HttpGetOptions {
  /** Host names (optionally `host:port`) the tool may reach; empty: none. */
  allowedHosts: readonly string[];
  maxBytes: number;
  fetch?: typeof fetch;
}

/** Whether `url`'s host (with its port, when the entry names one) is on the allow-list. */
export function hostAllowed(url: URL, allowed: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  return allowed.some(
    (entry) =>
      entry === host ||
      entry === `${host}:${url.port}` ||
      (url.port === '' && entry === `${host}:${url.protocol === 'https:' ? 443 : 80}`),
  );
}

/** `http.get`: reads a URL on an allow-listed host (SAFE). Redirects are not followed. */
export function httpGetTool(options: HttpGetOptions) {
  const fetchImpl = options.fetch ?? fetch;
  return defineTool({
    name: 'http.get',
    description: 'Reads a web page or API response from an allow-listed host (no redirects followed).',
    riskLevel: 'SAFE',
    input: z.object({
      url: z.url({ protocol: /^https?$/, message: 'must be an http or https URL' }).max(2000),
    }),
    async run(input, ctx) {
      const url = new URL(input.url);
      if (!hostAllowed(url, options.allowedHosts)) {
        throw new ForbiddenError(
          `http.get may not reach ${url.host}: it is not in AGENT_HTTP_ALLOWED_HOSTS`,
          { host: url.host },
        );
      }
      const res = await fetchImpl(url, {
        redirect: 'manual',
        signal: ctx.signal,
        headers: { 'idempotency-key': ctx.idempotencyKey, accept: '*/*' },
      });
      const { text, truncated } = await readBounded(res, options.maxBytes);
      return {
        status: res.status,
        contentType: res.headers.get('content-type') ?? null,
        ...(res.headers.get('location') ? { location: res.headers.get('location') } : {}),
        body: text,
        truncated,
      };
    },
  });
}

async function readBounded(res: Response, maxBytes: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated };
}
