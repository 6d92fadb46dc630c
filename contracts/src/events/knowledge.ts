import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';
import { DOCUMENT_STATUSES } from '../enums.ts';

/**
 * A document moved from one status to another (knowledge → live pushes: `documentStatusChanged`).
 * `from` is null when the document was first stored (QUEUED); `error` is set when it is FAILED.
 */
export const DocumentStatusChanged = defineEvent(
  'document.status_changed',
  1,
  z.object({
    documentId: uuid(),
    from: z.enum(DOCUMENT_STATUSES).nullable(),
    to: z.enum(DOCUMENT_STATUSES),
    error: z.string().min(1).max(2000).optional(),
  }),
);

/** The knowledge domain's events that other domains read. */
export const KNOWLEDGE_EVENTS = [DocumentStatusChanged] as const;
