// A small round-robin HTTP and WebSocket balancer with active and passive health checks, as a
// Kubernetes Service or a cloud load balancer stands in front of replicas (test and bench only).
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';

/** How often each backend's health path is asked, by default. */
export const HEALTH_INTERVAL_MS = 250;
/** How long a health check may take before it counts as failed (a loaded machine answers slowly). */
const HEALTH_TIMEOUT_MS = 3_000;
/** Failed health checks in a row that take a backend out (a failed request takes it out at once). */
export const UNHEALTHY_AFTER = 3;

/** One backend as the balancer sees it. */
export interface BackendState {
  /** Its origin, e.g. http://127.0.0.1:41234. */
  origin: string;
  healthy: boolean;
  /** Health checks failed in a row. */
  failedChecks: number;
  /** HTTP requests sent to it and not yet answered. */
  inFlight: number;
  /** HTTP requests sent to it, ever. */
  sent: number;
  /** When it was taken out (ms since the epoch) and how many requests it had been sent by then. */
  downs: { at: number; sent: number }[];
  /** Requests it answered. */
  served: number;
  /** WebSocket connections open through it. */
  sockets: Set<Socket>;
}

/** Options of {@link startBalancer}. */
export interface BalancerOptions {
  name: string;
  /** Backend origins. */
  backends: string[];
  /** Path answered 200 by a healthy backend. */
  healthPath?: string;
  healthIntervalMs?: number;
  port?: number;
}

/** A running balancer. */
export interface Balancer {
  readonly name: string;
  readonly origin: string;
  readonly backends: readonly BackendState[];
  /** Points backend `index` at another origin (a replica restarted on another port). */
  replace(index: number, origin: string): void;
  /** Index of the backend the latest WebSocket upgrade went to. */
  readonly lastUpgrade: number | undefined;
  /** Answers the balancer itself gave because a backend failed mid-request (502) or none was healthy (503). */
  readonly failures: { badGateway: number; unavailable: number; retried: number };
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/**
 * Starts a balancer. HTTP requests go round-robin to healthy backends (to any, when none is); a
 * request whose connection was refused is tried on the next one; one that failed after it was sent
 * is answered 502, as a real balancer does (a mutation is never sent twice). A
 * backend is marked down at its first such failure or after {@link UNHEALTHY_AFTER} failed health
 * checks, and up again once its health path answers 200.
 */
export async function startBalancer(options: BalancerOptions): Promise<Balancer> {
  const healthPath = options.healthPath ?? '/ready';
  const backends: BackendState[] = options.backends.map((origin) => ({
    origin,
    healthy: false,
    failedChecks: 0,
    inFlight: 0,
    sent: 0,
    downs: [],
    served: 0,
    sockets: new Set(),
  }));
  // A connection per request, as an L4 balancer maps a client's connection to one backend's: a pooled
  // connection to a replica that just died would fail a request that never reached it.
  const agent = new Agent({ keepAlive: false });
  const failures = { badGateway: 0, unavailable: 0, retried: 0 };
  let next = 0;
  let lastUpgrade: number | undefined;

  // With no healthy backend every backend is tried (Envoy's "panic" routing): health checks that time
  // out on an overloaded machine must not turn into refusing every request.
  const pick = (exclude: Set<number>): number | undefined => {
    for (const healthyOnly of [true, false]) {
      for (let i = 0; i < backends.length; i++) {
        const index = (next + i) % backends.length;
        if ((backends[index]!.healthy || !healthyOnly) && !exclude.has(index)) {
          next = index + 1;
          return index;
        }
      }
    }
    return undefined;
  };
  const down = (backend: BackendState) => {
    if (backend.healthy) backend.downs.push({ at: Date.now(), sent: backend.sent });
    backend.healthy = false;
    backend.failedChecks = UNHEALTHY_AFTER;
  };

  const check = async (backend: BackendState) => {
    try {
      const res = await fetch(new URL(healthPath, backend.origin), {
        signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(String(res.status));
      backend.healthy = true;
      backend.failedChecks = 0;
    } catch {
      backend.failedChecks++;
      if (backend.failedChecks >= UNHEALTHY_AFTER) down(backend);
    }
  };
  await Promise.all(backends.map(check));
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void Promise.all(backends.map(check)).finally(() => {
      checking = false;
    });
  }, options.healthIntervalMs ?? HEALTH_INTERVAL_MS);
  timer.unref();

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, tried: Set<number>) => {
    const index = pick(tried);
    if (index === undefined) {
      failures.unavailable++;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: `${options.name}: no backend accepted the request` }] }));
      return;
    }
    tried.add(index);
    const backend = backends[index]!;
    const target = new URL(req.url ?? '/', backend.origin);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    delete headers['transfer-encoding'];
    backend.inFlight++;
    backend.sent++;
    let settled = false;
    const settle = () => {
      if (settled) return false;
      settled = true;
      backend.inFlight--;
      return true;
    };
    const upstream = httpRequest(target, { method: req.method, headers, agent }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [key, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !HOP_BY_HOP.has(key)) out[key] = value;
      }
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
      answer.once('end', () => {
        if (settle()) backend.served++;
      });
      answer.once('error', () => {
        settle();
        res.destroy();
      });
    });
    upstream.once('error', (error: NodeJS.ErrnoException) => {
      if (!settle()) {
        res.destroy();
        return;
      }
      down(backend);
      // Only a refused connection surely never reached the backend: a reset pooled connection may
      // have carried a mutation the backend committed before it died, and is not sent twice.
      if (error.code === 'ECONNREFUSED' && !res.headersSent) {
        // Safe to send elsewhere: this backend never saw it (503 when no other is left).
        if (tried.size < backends.length) failures.retried++;
        forward(req, res, body, tried);
        return;
      }
      failures.badGateway++;
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ message: `${options.name}: the backend failed` }] }));
      }
    });
    upstream.end(body);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => forward(req, res, Buffer.concat(chunks), new Set()));
  });
  server.keepAliveTimeout = 65_000;

  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const index = pick(new Set());
    if (index === undefined) {
      failures.unavailable++;
      client.end('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    lastUpgrade = index;
    const backend = backends[index]!;
    const target = new URL(backend.origin);
    const upstream = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const key = req.rawHeaders[i]!;
        lines.push(`${key}: ${key.toLowerCase() === 'host' ? target.host : req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    backend.sockets.add(client);
    const close = () => {
      backend.sockets.delete(client);
      client.destroy();
      upstream.destroy();
    };
    upstream.once('error', close);
    upstream.once('close', close);
    client.once('error', close);
    client.once('close', close);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as { port: number };
  return {
    name: options.name,
    origin: `http://127.0.0.1:${port}`,
    backends,
    failures,
    get lastUpgrade() {
      return lastUpgrade;
    },
    replace(index, origin) {
      const backend = backends[index];
      if (!backend) throw new Error(`${options.name} has no backend ${index}`);
      backend.origin = origin;
      down(backend);
    },
    async close() {
      clearInterval(timer);
      for (const backend of backends) for (const socket of backend.sockets) socket.destroy();
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
