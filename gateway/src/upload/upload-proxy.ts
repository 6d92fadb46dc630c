import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { Pool } from 'undici';
import { actorOf } from '#kernel/audit/audit-log.ts';
import { recordRefusal } from '#kernel/audit/refusals.ts';
import { tenantScope } from '#kernel/db/tenant-context.ts';
import { AppError, ErrorCode } from '#kernel/errors.ts';
import { requestIdOf } from '#kernel/graphql/context.ts';
import type { OperationPipeline } from '#kernel/graphql/pipeline/pipeline.ts';
import { assertHasRole, type Role } from '#kernel/graphql/roles.ts';
import type { Logger } from '#kernel/logger.ts';
import type { GatewayContext } from '../context.ts';

/** Path of the streamed document upload, on the gateway and on the knowledge subgraph. */
export const UPLOAD_PATH = '/documents';
/**
 * Roles that may upload: those the knowledge SDL declares for `Mutation.ingestDocument` (a test
 * holds them equal). Checked here so a refused caller sends no bytes on; the subgraph checks again.
 */
export const UPLOAD_ROLES: readonly Role[] = ['Contributor', 'Admin'];
/**
 * How long the knowledge subgraph may take to answer once the last byte is sent: it stores the
 * document in one transaction, which on a busy or embedded database takes far longer than a query
 * (SUBGRAPH_TIMEOUT_MS still bounds every silence while bytes flow and the answer's body).
 */
export const UPLOAD_ANSWER_TIMEOUT_MS = 300_000;
/** The audit action of an upload the gateway refuses itself. */
export const GATEWAY_UPLOAD_ACTION = 'gateway.uploadDocument';

/**
 * How long the gateway goes on reading (and discarding) the rest of a body the subgraph answered
 * early (a 413), so the client, still sending, reads the answer instead of a connection reset.
 */
export const UPLOAD_LINGER_MS = 5_000;

/** Request headers passed on to the knowledge subgraph (nothing that claims an identity). */
const FORWARDED = ['content-type', 'content-length', 'content-disposition'] as const;

/** Options of {@link createUploadProxy}. */
export interface UploadProxyOptions {
  /** The gateway's operation pipeline: its authentication verifies the caller's token. */
  pipeline: OperationPipeline<GatewayContext>;
  /** The knowledge subgraph's routing URL (its `/graphql`); the upload goes to its `/documents`. */
  knowledgeUrl: string;
  /** Time the subgraph may stay silent while bytes flow, and between chunks of its answer (SUBGRAPH_TIMEOUT_MS). */
  timeoutMs: number;
  /** Where the gateway audits its own refusals of verified callers. */
  auditOrm?: MikroORM;
  logger: Logger;
}

/** The upload route and what it holds open. */
export interface UploadProxy {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

/**
 * Reads and discards the rest of a request body answered early, for at most {@link UPLOAD_LINGER_MS}
 * (then the connection goes): closing a socket with unread bytes resets it, and a client still
 * writing may then lose the answer it had not read yet.
 */
function linger(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), UPLOAD_LINGER_MS);
  timer.unref();
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

function send(res: ServerResponse, status: number, message: string, extensions: Record<string, unknown>) {
  if (res.headersSent) return void res.destroy();
  // The body was not read: the connection cannot carry another request after this answer.
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(JSON.stringify({ errors: [{ message, extensions }] }));
}

/**
 * `POST /documents` on the gateway: verifies the caller's token and role before a byte of the body
 * is read, then streams the body to the knowledge subgraph's `/documents` with the caller's own
 * `Authorization` (zero trust: it verifies, checks roles, enforces the size limit while reading,
 * stores, publishes and audits). Bytes flow through with backpressure (the subgraph's reading paces
 * the client's sending) and are never held here beyond a socket buffer; the subgraph's answer
 * (201/200, 413 naming the limit, 415, …) is streamed back as it is. A client that disconnects
 * midway aborts the subgraph request, which then stores nothing.
 */
export function createUploadProxy(options: UploadProxyOptions): UploadProxy {
  const target = new URL(UPLOAD_PATH, options.knowledgeUrl);
  const pool = new Pool(target.origin, {
    // undici restarts this wait with every body chunk sent: it bounds silences, then the answer.
    headersTimeout: Math.max(options.timeoutMs, UPLOAD_ANSWER_TIMEOUT_MS),
    bodyTimeout: options.timeoutMs,
    connectTimeout: options.timeoutMs,
  });
  const { logger } = options;

  async function refuse(ctx: GatewayContext, error: AppError, req: IncomingMessage, res: ServerResponse) {
    if (options.auditOrm) {
      await recordRefusal(
        tenantScope(options.auditOrm, ctx.identity.tenantId),
        {
          actor: actorOf(ctx.identity),
          action: GATEWAY_UPLOAD_ACTION,
          targetType: 'Document',
          targetId: null,
          outcome: error.code === ErrorCode.Forbidden ? 'denied' : 'failed',
          requestId: ctx.requestId,
          input: { path: req.url, _error: error.code },
        },
        logger,
      );
    }
    send(res, error.httpStatus, error.message, { code: error.code, ...error.details });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return send(res, 405, `Upload with POST ${UPLOAD_PATH}`, { code: 'BAD_REQUEST' });
    }
    const requestId = requestIdOf(req.headers);
    let ctx: GatewayContext;
    try {
      ctx = await options.pipeline.authenticate({ authorization: req.headers.authorization, requestId });
    } catch (error) {
      if (error instanceof AppError) {
        return send(res, error.httpStatus, error.message, { code: error.code, ...error.details });
      }
      throw error;
    }
    try {
      assertHasRole(ctx.identity, UPLOAD_ROLES, 'Uploading a document');
    } catch (error) {
      if (error instanceof AppError) return refuse(ctx, error, req, res);
      throw error;
    }
    const headers: Record<string, string> = { authorization: ctx.authorization, 'x-request-id': requestId };
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const search = new URL(req.url ?? '/', 'http://localhost').search;
    let answered = false;
    // undici is given a stream of the proxy's own, never the client's request: it destroys its body
    // stream when the answer comes before the body is sent (an early 413), and destroying the
    // client's request would reset the client's connection before the answer reaches it.
    const body = new PassThrough({ highWaterMark: 64 * 1024 });
    req.pipe(body);
    const clientGone = () => {
      if (!req.complete) body.destroy(new Error('the client went away mid-upload'));
    };
    req.once('close', clientGone);
    body.once('close', () => req.unpipe(body));
    try {
      const response = await pool.request({
        path: `${target.pathname}${search}`,
        method: 'POST',
        headers,
        body,
      });
      answered = true;
      const early = !req.complete;
      if (early) {
        // Answered before the body ended: stop forwarding, and read the rest of what the client is
        // still sending (discarded), so it finishes writing and reads the answer.
        req.unpipe(body);
        body.destroy();
        linger(req);
      }
      res.writeHead(response.statusCode, {
        'content-type': String(response.headers['content-type'] ?? 'application/json; charset=utf-8'),
        // Early, the client is still sending: the connection stays open while the rest is
        // discarded (closing it with unread bytes would reset it before the client read this).
        ...(response.headers.connection === 'close' && !early ? { connection: 'close' } : {}),
      });
      await pipeline(response.body, res);
    } catch (error) {
      if (req.destroyed && !req.complete) {
        // The client went away: the subgraph request was aborted with it; nobody awaits an answer.
        logger.info('upload abandoned by the client', { requestId });
        return;
      }
      if (answered) return void res.destroy();
      logger.warn('upload could not reach the knowledge subgraph', { requestId, error: String(error) });
      if (!req.complete) linger(req);
      send(res, 503, 'The knowledge subgraph is unavailable; try the upload again', {
        code: ErrorCode.Unavailable,
        subgraph: 'knowledge',
      });
    } finally {
      req.off('close', clientGone);
    }
  }

  return {
    handle: (req, res) => {
      handle(req, res).catch((error: unknown) => {
        logger.error('upload failed', { message: error instanceof Error ? error.message : String(error) });
        send(res, 500, 'Internal server error', { code: ErrorCode.Internal });
      });
    },
    close: () => pool.close(),
  };
}
