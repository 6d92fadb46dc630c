import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

/** Content types of the files the console build writes; anything else is not served. */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};
/** Content-hashed file names (`main-AB12CD34.js`) never change: cached for a year. */
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;

/** Headers every console response carries. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
}

/**
 * Serves `relative` from `root` (a build folder). Refuses anything that would leave it (`..`, encoded
 * or not, NUL, backslashes), dot files and unknown extensions with 404; `index.html` is revalidated on
 * every load, hashed assets are immutable, the rest (the widget's stable URL) cached for 5 minutes.
 */
export async function serveFile(
  root: string,
  relative: string,
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return false;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').some((p) => p.startsWith('.'))) {
    return false;
  }
  const file = normalize(join(root, decoded));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return false;
  const type = CONTENT_TYPES[extname(file)];
  if (!type) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  const cache = file.endsWith('.html')
    ? 'no-cache'
    : HASHED.test(file)
      ? 'public, max-age=31536000, immutable'
      : 'public, max-age=300';
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const common = { ...headers, 'cache-control': cache, etag };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, common).end();
    return true;
  }
  res.writeHead(200, { ...common, 'content-type': type, 'content-length': String(info.size) });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  createReadStream(file).pipe(res);
  return true;
}
