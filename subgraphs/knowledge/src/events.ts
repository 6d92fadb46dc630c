import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';

export { DocumentStatusChanged } from '#contracts/events/knowledge.ts';

/** A document's bytes were stored and wait to be ingested (read by the knowledge-ingest workers). */
export const DocumentUploaded = defineEvent(
  'document.uploaded',
  1,
  z.object({
    documentId: uuid(),
    title: z.string().min(1).max(500),
    mimeType: z.string().min(3).max(200),
  }),
);

/** A document was parsed, chunked and embedded: its chunks are searchable (it is READY). */
export const DocumentIngested = defineEvent(
  'document.ingested',
  2,
  z.object({
    documentId: uuid(),
    version: z.number().int().min(1),
    chunkCount: z.number().int().min(0),
    pageCount: z.number().int().min(0).nullable(),
    embeddingModel: z.string().min(1).max(200),
  }),
);

/** A document could not be ingested (it is FAILED); `reason` is written for the user. */
export const DocumentFailed = defineEvent(
  'document.failed',
  1,
  z.object({ documentId: uuid(), reason: z.string().min(1).max(2000) }),
);
