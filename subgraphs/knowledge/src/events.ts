import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';

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

/** A document was ingested or failed. */
export const DocumentIngested = defineEvent(
  'document.ingested',
  1,
  z.object({
    documentId: uuid(),
    chunkCount: z.number().int().min(0),
    status: z.enum(['READY', 'FAILED']),
  }),
);
