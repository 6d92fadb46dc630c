import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { eventSource, publish } from '#events/producer/outbox.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { PayloadTooLargeError, ValidationError } from '#kernel/errors.ts';
import { DocumentStatusChanged, DocumentUploaded } from '../events.ts';
import { sniffMediaType } from '../ingest/sniff.ts';
import { putBlob } from './blob-store.ts';
import { Document } from './document.entity.ts';
import { statusChange } from './status-side-channel.ts';

/** What `ingestDocument` receives (SDL `IngestDocumentInput`). */
export interface IngestInput {
  title: string;
  mimeType?: string | null;
  text?: string | null;
  contentBase64?: string | null;
  sourceUri?: string | null;
  language?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** Longest title, source URI and metadata (serialised) accepted. */
export const MAX_TITLE = 500;
export const MAX_SOURCE_URI = 2000;
export const MAX_METADATA_BYTES = 64 * 1024;
const LANGUAGE = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8}){0,4}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** What submitting did: a new QUEUED document, or the tenant's existing one with the same content. */
export interface Submitted {
  document: Document;
  duplicate: boolean;
}

/** The byte size a base64 text decodes to, without decoding it. */
function decodedSize(base64: string): number {
  const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  return Math.floor((base64.length * 3) / 4) - padding;
}

/**
 * PAYLOAD_TOO_LARGE naming the limit and its variable; `bytes` is the size, or undefined when the
 * upload was cut off at the limit before its end (a stream of unknown length).
 */
export function tooLarge(
  bytes: number | undefined,
  max: number,
  variable = 'KNOWLEDGE_MAX_DOCUMENT_BYTES',
  advice = 'Split it or ask an operator to raise the limit.',
): PayloadTooLargeError {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const size = bytes === undefined ? `more than ${max} bytes` : `${bytes} bytes (${mib(bytes)})`;
  return new PayloadTooLargeError(
    `The document is ${size}; the limit is ${max} bytes (${mib(max)}, ${variable}). ${advice}`,
    { field: 'input', ...(bytes === undefined ? {} : { bytes }), maxBytes: max },
  );
}

/** The document's bytes from exactly one of `text` and `contentBase64`, within `maxBytes`. */
export function contentOf(input: IngestInput, maxBytes: number): Uint8Array {
  const hasText = input.text !== undefined && input.text !== null;
  const hasBase64 = input.contentBase64 !== undefined && input.contentBase64 !== null;
  if (hasText === hasBase64) {
    throw new ValidationError('Give the document as exactly one of input.text and input.contentBase64', {
      field: 'input',
    });
  }
  let bytes: Uint8Array;
  if (hasText) {
    const size = Buffer.byteLength(input.text!, 'utf8');
    if (size > maxBytes) throw tooLarge(size, maxBytes);
    bytes = Buffer.from(input.text!, 'utf8');
  } else {
    const base64 = input.contentBase64!.replace(/\s+/g, '');
    if (decodedSize(base64) > maxBytes) throw tooLarge(decodedSize(base64), maxBytes);
    if (base64.length % 4 === 1 || !BASE64.test(base64)) {
      throw new ValidationError('input.contentBase64 is not valid base64 (RFC 4648, standard alphabet)', {
        field: 'input.contentBase64',
      });
    }
    bytes = Buffer.from(base64, 'base64');
  }
  if (bytes.byteLength === 0) throw new ValidationError('The document is empty', { field: 'input' });
  return bytes;
}

/** A document's fields besides its bytes (what a streamed upload sends beside them). */
export type DocumentFields = Pick<IngestInput, 'title' | 'mimeType' | 'sourceUri' | 'language' | 'metadata'>;

/** Checks the fields of a document: title, source URI, language tag and metadata size. */
export function validated(input: DocumentFields) {
  const title = input.title.trim();
  if (!title || title.length > MAX_TITLE) {
    throw new ValidationError(`input.title must be 1 to ${MAX_TITLE} characters (got ${title.length})`, {
      field: 'input.title',
    });
  }
  const sourceUri = input.sourceUri?.trim() || null;
  if (sourceUri && sourceUri.length > MAX_SOURCE_URI) {
    throw new ValidationError(`input.sourceUri must be at most ${MAX_SOURCE_URI} characters`, {
      field: 'input.sourceUri',
    });
  }
  const language = input.language?.trim() || null;
  if (language && (!LANGUAGE.test(language) || language.length > 35)) {
    throw new ValidationError(
      `input.language must be a BCP 47 language tag such as "en" or "pt-BR" (got "${language}")`,
      {
        field: 'input.language',
      },
    );
  }
  const metadata = input.metadata ?? {};
  if (Buffer.byteLength(JSON.stringify(metadata)) > MAX_METADATA_BYTES) {
    throw new ValidationError(`input.metadata must serialise to at most ${MAX_METADATA_BYTES} bytes`, {
      field: 'input.metadata',
    });
  }
  return { title, sourceUri, language, metadata };
}

/** A transaction-scoped advisory lock on a tenant-local key (serialises dedupe and versioning). */
async function lockKey(em: EntityManager, tenantId: string, key: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`knowledge:${tenantId}:${key}`]);
}

/**
 * Takes a document in, in the caller's transaction: checks and sniffs it, stores its bytes
 * content-addressed, creates it QUEUED (a new version when its source already has one) and
 * publishes `document.uploaded` through the outbox, so the document and its ingestion job commit
 * together. The same content in the same tenant is the same document: it is returned unchanged.
 */
export async function submitDocument(
  em: EntityManager,
  identity: Identity,
  input: IngestInput,
  maxBytes: number,
): Promise<Submitted> {
  validated(input);
  return submitBytes(em, identity, input, contentOf(input, maxBytes));
}

/**
 * {@link submitDocument} for bytes already read (and size-checked) by the caller, e.g. a streamed
 * upload: the same checks, storage, dedupe, versioning and events.
 */
export async function submitBytes(
  em: EntityManager,
  identity: Identity,
  input: DocumentFields,
  bytes: Uint8Array,
): Promise<Submitted> {
  const { title, sourceUri, language, metadata } = validated(input);
  if (bytes.byteLength === 0) throw new ValidationError('The document is empty', { field: 'input' });
  const { mediaType } = sniffMediaType(bytes, input.mimeType ?? undefined, sourceUri ?? title);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const tenantId = identity.tenantId;
  // Sorted, so two submissions never wait on each other's second lock.
  for (const key of [`sha:${sha256}`, ...(sourceUri ? [`uri:${sourceUri}`] : [])].sort()) {
    await lockKey(em, tenantId, key);
  }
  const repository = em.getRepository(Document);
  const existing = await repository.byContent(sha256);
  if (existing) return { document: existing, duplicate: true };
  const latest = sourceUri ? (await repository.versionsOf(sourceUri))[0] : undefined;
  await putBlob(em, tenantId, sha256, bytes);
  const document = Document.queue(
    {
      title,
      mimeType: mediaType,
      sha256,
      bytes: bytes.byteLength,
      sourceUri,
      version: (latest?.version ?? 0) + 1,
      language,
      metadata,
    },
    identity,
  );
  em.persist(document);
  await em.flush();
  await publish(em, DocumentUploaded, {
    ...eventSource(identity),
    aggregate: { type: 'Document', id: document.id },
    payload: { documentId: document.id, title: document.title, mimeType: document.mimeType },
  });
  await publish(em, DocumentStatusChanged, { ...eventSource(identity), ...statusChange(document, null) });
  return { document, duplicate: false };
}
