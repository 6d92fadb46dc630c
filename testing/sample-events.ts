import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';

// Event types of no domain, for the bus's own tests and benchmarks (the bus knows no domain's events).

/** A sample "something was uploaded" event, the shape of a typical domain event. */
export const SampleUploaded = defineEvent(
  'sample.uploaded',
  1,
  z.object({
    documentId: uuid(),
    title: z.string().min(1).max(500),
    mimeType: z.string().min(3).max(200),
  }),
);

/** A second sample event type, for consumers that read two topics. */
export const SampleDecided = defineEvent(
  'sample.decided',
  1,
  z.object({ approvalId: uuid(), taskId: uuid(), decision: z.enum(['APPROVED', 'REJECTED']) }),
);
