import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Result of a readiness check: each dependency and whether it answered. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

/** Writes a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}

/**
 * Answers the probes every process serves — liveness `GET /health` (200 while the process runs) and
 * readiness `GET /ready` (200 when every dependency answered, else 503 with the report) — and says
 * whether `path` was one of them.
 */
export function answerProbe(
  path: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  ready: () => Promise<ReadinessReport>,
): boolean {
  if (req.method !== 'GET' || (path !== '/health' && path !== '/ready')) return false;
  if (path === '/health') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  ready().then(
    (report) =>
      sendJson(res, report.ready ? 200 : 503, { status: report.ready ? 'ready' : 'not ready', ...report }),
    (error: unknown) => sendJson(res, 503, { status: 'not ready', error: String(error) }),
  );
  return true;
}

/** A process's probe endpoint. */
export interface ProbeServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves only `/health` and `/ready`, for processes without an HTTP API of their own (event workers),
 * so an orchestrator (Kubernetes probes, a load balancer) can watch them.
 */
export async function startProbeServer(options: {
  host: string;
  port: number;
  ready: () => Promise<ReadinessReport>;
}): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!answerProbe(path, req, res, options.ready)) {
      sendJson(res, 404, {
        error: `No route for ${req.method} ${path}; this process serves /health and /ready`,
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
