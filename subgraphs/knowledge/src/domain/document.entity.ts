import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';
import { DOCUMENT_STATUSES, type DocumentStatus } from '#contracts/enums.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { ConflictError } from '#kernel/errors.ts';
import { DocumentRepository } from './document.repository.ts';

export { DOCUMENT_STATUSES, type DocumentStatus };

/**
 * Statuses a document may move to from each status: a crashed attempt restarts from
 * PARSING/EMBEDDING, and a progress status that could not be written (a failed side transaction)
 * is skipped, so QUEUED may move straight on.
 */
export const DOCUMENT_TRANSITIONS: Readonly<Record<DocumentStatus, readonly DocumentStatus[]>> = {
  QUEUED: ['PARSING', 'EMBEDDING', 'READY', 'FAILED'],
  PARSING: ['PARSING', 'EMBEDDING', 'READY', 'FAILED'],
  EMBEDDING: ['PARSING', 'EMBEDDING', 'READY', 'FAILED'],
  READY: [],
  FAILED: [],
};

/** Longest reason stored for a failure. */
export const MAX_ERROR_LENGTH = 2000;

const DocumentSchema = defineEntity({
  name: 'Document',
  schema: 'knowledge',
  tableName: 'documents',
  repository: () => DocumentRepository,
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    title: p.text(),
    mimeType: p.text(),
    status: p.enum(DOCUMENT_STATUSES),
    contentSha256: p.text().nullable(),
    bytes: p.bigint('number').nullable(),
    sourceUri: p.text().nullable(),
    version: p.integer(),
    isCurrent: p.boolean(),
    language: p.text().nullable(),
    metadata: p.json<Record<string, unknown>>(),
    error: p.text().nullable(),
    chunkCount: p.integer().nullable(),
    pageCount: p.integer().nullable(),
    ingestedAt: p.datetime(3).nullable(),
    createdBy: p.uuid(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  },
});

/** What a new document is made from. */
export interface NewDocument {
  title: string;
  mimeType: string;
  sha256: string;
  bytes: number;
  sourceUri?: string | null;
  version?: number;
  language?: string | null;
  metadata?: Record<string, unknown>;
}

/** A document (one version of it) a tenant ingests; chunks appear when it is READY. */
export class Document extends DocumentSchema.class {
  /** A QUEUED document created by a verified identity. */
  static queue(input: NewDocument, creator: Identity): Document {
    const doc = new Document();
    const now = new Date();
    doc.id = randomUUID();
    doc.tenantId = creator.tenantId;
    doc.title = input.title;
    doc.mimeType = input.mimeType;
    doc.status = 'QUEUED';
    doc.contentSha256 = input.sha256;
    doc.bytes = input.bytes;
    doc.sourceUri = input.sourceUri ?? null;
    doc.version = input.version ?? 1;
    // A new version becomes current (searched) only when it is READY.
    doc.isCurrent = doc.version === 1;
    doc.language = input.language ?? null;
    doc.metadata = input.metadata ?? {};
    doc.error = null;
    doc.chunkCount = null;
    doc.pageCount = null;
    doc.ingestedAt = null;
    doc.createdBy = creator.subjectId;
    doc.createdAt = now;
    doc.updatedAt = now;
    return doc;
  }

  /** Whether ingestion has finished, one way or the other. */
  get finished(): boolean {
    return this.status === 'READY' || this.status === 'FAILED';
  }

  /** Moves to `status`; CONFLICT when not allowed. Returns the previous status. */
  moveTo(status: DocumentStatus): DocumentStatus {
    const from = this.status;
    if (!DOCUMENT_TRANSITIONS[from].includes(status)) {
      throw new ConflictError(`Document ${this.id} is ${from} and cannot become ${status}`, {
        status: from,
        requested: status,
      });
    }
    this.status = status;
    this.updatedAt = new Date();
    return from;
  }

  /** READY with its counts; the caller makes it current. */
  markReady(chunkCount: number, pageCount: number | null): DocumentStatus {
    const from = this.moveTo('READY');
    this.chunkCount = chunkCount;
    this.pageCount = pageCount;
    this.error = null;
    this.ingestedAt = this.updatedAt;
    return from;
  }

  /** FAILED with a reason a user understands. */
  markFailed(reason: string): DocumentStatus {
    const from = this.moveTo('FAILED');
    this.error = reason.replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_LENGTH) || 'ingestion failed';
    return from;
  }
}

DocumentSchema.setClass(Document);

export { DocumentSchema };
