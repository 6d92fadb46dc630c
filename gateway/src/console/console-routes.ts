import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from '#kernel/logger.ts';
import { ROOT_DIR } from '../compose.ts';
import type { ConsoleSignIn } from './console-config.ts';
import { forwardDevToken } from './dev-sign-in.ts';
import { securityHeaders, serveFile } from './static-files.ts';

/** Path the console is served under. */
export const CONSOLE_PATH = '/console';
/** Where `npm run build:console` writes the console and the widget. */
export const CONSOLE_DIST = join(ROOT_DIR, 'console', 'dist');

/**
 * The console's Content-Security-Policy: scripts, styles and connections from this origin only (the
 * graph over HTTP and its WebSocket), Entra ID's sign-in host when configured, no inline code, no framing.
 */
export function consolePolicy(signIn: ConsoleSignIn): string {
  const connect = ["'self'"];
  if (signIn.entra) connect.push(new URL(signIn.entra.authority).origin);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    // MSAL's silent renewal loads the authority in a hidden frame.
    `frame-src ${signIn.entra ? new URL(signIn.entra.authority).origin : "'none'"}`,
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The `/console` route: the static build, its sign-in settings and (in development) dev sign-in. */
export function consoleRoute(options: { signIn: ConsoleSignIn; dist?: string; logger: Logger }) {
  const dist = options.dist ?? CONSOLE_DIST;
  const headers = securityHeaders(consolePolicy(options.signIn));
  const config = JSON.stringify({
    dev: options.signIn.devIssuerUrl !== undefined,
    entra: options.signIn.entra ?? null,
  });
  const notFound = (res: ServerResponse, path: string): void => {
    res
      .writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' })
      .end(`Not found: ${path}. The console is at ${CONSOLE_PATH}/`);
  };

  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === CONSOLE_PATH) {
      res.writeHead(308, { ...headers, location: `${CONSOLE_PATH}/` }).end();
      return;
    }
    if (!path.startsWith(`${CONSOLE_PATH}/`)) {
      notFound(res, path);
      return;
    }
    const rest = path.slice(CONSOLE_PATH.length + 1);
    if (rest === 'config.json' && req.method === 'GET') {
      res
        .writeHead(200, {
          ...headers,
          'content-type': 'application/json; charset=utf-8',
          'cache-control': 'no-cache',
        })
        .end(config);
      return;
    }
    if (rest === 'dev-token') {
      if (!options.signIn.devIssuerUrl) {
        notFound(res, path);
        return;
      }
      void forwardDevToken(options.signIn.devIssuerUrl, req, res, headers);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, allow: 'GET, HEAD' }).end();
      return;
    }
    // Paths without an extension are the console's own pages: the app routes them.
    const file = rest === '' || !/\.[a-z0-9]+$/i.test(rest) ? 'index.html' : rest;
    serveFile(dist, file, req, res, headers).then(
      (served) => {
        if (served) return;
        if (file === 'index.html') {
          res
            .writeHead(503, { ...headers, 'content-type': 'text/plain; charset=utf-8' })
            .end('The console is not built: run npm run build:console (npm start builds it when missing).');
          return;
        }
        notFound(res, path);
      },
      (error: unknown) => {
        options.logger.error('console file failed', { path, error: String(error) });
        if (!res.headersSent) res.writeHead(500, headers).end();
        else res.end();
      },
    );
  };
}
