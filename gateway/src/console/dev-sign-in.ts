import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest sign-in request the gateway forwards. */
const MAX_BYTES = 4096;

/**
 * `POST /console/dev-token`: forwards `{tenant, user, roles}` to the dev issuer's token endpoint so the
 * console (same origin, `connect-src 'self'`) can sign in during development. Only mounted when
 * CONSOLE_DEV_ISSUER_URL is configured, which the gateway's config refuses in production.
 */
export async function forwardDevToken(
  issuerUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<void> {
  const json = (status: number, body: string): void => {
    res
      .writeHead(status, {
        ...headers,
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      })
      .end(body);
  };
  if (req.method !== 'POST') return json(405, JSON.stringify({ error: 'POST {tenant, user, roles}' }));
  // A cross-site form cannot send JSON: insisting on it keeps other sites from minting tokens here.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return json(415, JSON.stringify({ error: 'content-type must be application/json' }));
  }
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > MAX_BYTES) return json(413, JSON.stringify({ error: `body over ${MAX_BYTES} bytes` }));
  }
  try {
    const answer = await fetch(`${issuerUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(5_000),
    });
    json(answer.status, await answer.text());
  } catch {
    json(502, JSON.stringify({ error: 'the dev issuer did not answer; is npm start still running?' }));
  }
}
