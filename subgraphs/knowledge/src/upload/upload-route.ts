import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import { type AuditEntry, actorOf, recordAudit } from '#kernel/audit/audit-log.ts';
import { recordRefusal } from '#kernel/audit/refusals.ts';
import { AppError, ErrorCode, ValidationError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { assertHasRole, type Role } from '#kernel/graphql/roles.ts';
import type { SubgraphRouteDeps } from '#kernel/graphql/subgraph.ts';
import type { Document } from '../domain/document.entity.ts';
import { type DocumentFields, submitBytes, tooLarge, validated } from '../domain/ingest.service.ts';
import { discardRest, readUpload } from './read-upload.ts';

/** Path of the streamed upload, on the knowledge subgraph and on the gateway alike. */
export const UPLOAD_PATH = '/documents';
/** How long the rest of a refused upload's body is read (and discarded) so the sender gets the answer. */
export const UPLOAD_LINGER_MS = 5_000;
/** The audit action of a streamed upload. */
export const UPLOAD_ACTION = 'knowledge.uploadDocument';

/** Options of {@link createUploadRoute}. */
export interface UploadRouteOptions extends SubgraphRouteDeps {
  /** Largest upload (`KNOWLEDGE_MAX_UPLOAD_BYTES`). */
  maxBytes: number;
  /** Roles that may upload: those `Mutation.ingestDocument` declares. */
  roles: readonly Role[];
}

/** The document as an upload's answer names it. */
function describe(doc: Document) {
  return {
    id: doc.id,
    title: doc.title,
    mimeType: doc.mimeType,
    status: doc.status,
    bytes: doc.bytes,
    contentSha256: doc.contentSha256,
    sourceUri: doc.sourceUri,
    version: doc.version,
  };
}

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    // An unread body cannot be skipped on a kept-alive connection: close it after the answer.
    ...(close ? { connection: 'close' } : {}),
  });
  res.end(JSON.stringify(body));
}

function errorBody(message: string, code: string, details: Record<string, unknown> = {}) {
  return { errors: [{ message, extensions: { code, ...details } }] };
}

/** The document's fields from the query string: `title` (required), `sourceUri`, `language`, `metadata` (JSON). */
function fieldsOf(req: IncomingMessage): DocumentFields {
  const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const title = params.get('title');
  if (!title) {
    throw new ValidationError('Name the document: add ?title=<title> to the upload URL', { field: 'title' });
  }
  let metadata: Record<string, unknown> | undefined;
  const rawMetadata = params.get('metadata');
  if (rawMetadata) {
    try {
      metadata = JSON.parse(rawMetadata);
    } catch {
      throw new ValidationError('metadata must be URL-encoded JSON (it does not parse)', {
        field: 'metadata',
      });
    }
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new ValidationError('metadata must be a JSON object', { field: 'metadata' });
    }
  }
  // The declared type, without parameters; "application/octet-stream" declares nothing.
  const declared = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  return {
    title,
    mimeType: declared && declared !== 'application/octet-stream' ? declared : null,
    sourceUri: params.get('sourceUri'),
    language: params.get('language'),
    metadata: metadata ?? null,
  };
}

/**
 * `POST /documents?title=…[&sourceUri=…&language=…&metadata=…]` with the document's bytes as the
 * body (any length up to `maxBytes`, `Content-Length` or chunked; `Content-Type` its media type or
 * none): the same caller verification, roles, checks, storage, events and audit as
 * `ingestDocument`, without base64 or a JSON body. Answers 201 `{document, duplicate: false}`, 200
 * for content the tenant already has, and GraphQL-shaped `errors` otherwise: 401, 403, 400, 413
 * naming the limit, 415. A client that goes away midway leaves nothing stored (nothing is written
 * before the last byte arrived) and an audit record of the attempt.
 */
export function createUploadRoute(options: UploadRouteOptions) {
  const { logger } = options;
  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(options, req, res).catch((error: unknown) => {
      logger.error('upload failed', { message: error instanceof Error ? error.message : String(error) });
      send(res, 500, errorBody('Internal server error', ErrorCode.Internal), true);
    });
  };
}

async function handle(options: UploadRouteOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return send(res, 405, errorBody(`Upload with POST ${UPLOAD_PATH}`, 'BAD_REQUEST'), true);
  }
  let ctx: RequestContext;
  try {
    ctx = await options.context(req.headers);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    const { http, ...extensions } = error.extensions as { http?: { status?: number }; code?: string };
    return send(res, http?.status ?? 401, { errors: [{ message: error.message, extensions }] }, true);
  }
  const audit = (outcome: AuditEntry['outcome'], input: Record<string, unknown>, targetId?: string) => ({
    actor: actorOf(ctx.identity),
    action: UPLOAD_ACTION,
    targetType: 'Document',
    targetId: targetId ?? null,
    outcome,
    requestId: ctx.requestId,
    input,
  });
  const refuse = async (error: AppError, input: Record<string, unknown>, close: boolean) => {
    const outcome = error.code === ErrorCode.Forbidden ? 'denied' : 'failed';
    await recordRefusal(ctx.db, audit(outcome, { ...input, _error: error.code }), options.logger);
    send(res, error.httpStatus, errorBody(error.message, error.code, { ...error.details }), close);
  };
  let fields: DocumentFields;
  try {
    assertHasRole(ctx.identity, options.roles, 'Uploading a document');
    fields = fieldsOf(req);
    // Title, source, language and metadata are refused before the body is read, not after.
    validated(fields);
  } catch (error) {
    if (error instanceof AppError) return refuse(error, { path: req.url }, true);
    throw error;
  }
  const described = { title: fields.title, mimeType: fields.mimeType, sourceUri: fields.sourceUri };
  const read = await readUpload(req, options.maxBytes);
  if (read.kind === 'aborted') {
    // Nobody is left to answer; the record says what happened.
    options.logger.info('upload abandoned by the client', { received: read.received });
    await recordRefusal(
      ctx.db,
      audit('failed', { ...described, received: read.received, _error: 'CLIENT_DISCONNECTED' }),
      options.logger,
    );
    return void res.destroy();
  }
  if (read.kind === 'too-large') {
    const error = tooLarge(
      read.announced,
      options.maxBytes,
      'KNOWLEDGE_MAX_UPLOAD_BYTES',
      'Split it or ask an operator to raise the limit.',
    );
    await refuse(error, described, false);
    return discardRest(req, UPLOAD_LINGER_MS);
  }
  try {
    const submitted = await ctx.db.run(async (em) => {
      const result = await submitBytes(em, ctx.identity, fields, read.bytes);
      await recordAudit(
        em,
        ctx.identity.tenantId,
        audit(
          'success',
          { ...described, bytes: read.bytes.byteLength, duplicate: result.duplicate },
          result.document.id,
        ),
      );
      return result;
    });
    send(res, submitted.duplicate ? 200 : 201, {
      document: describe(submitted.document),
      duplicate: submitted.duplicate,
    });
  } catch (error) {
    if (error instanceof AppError) return refuse(error, described, false);
    throw error;
  }
}
