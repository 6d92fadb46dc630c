import { z } from 'zod';

const uuid = z.uuid();
const name = z.string().min(1).max(200);

/** Who caused an event: a user or a service identity, as verified. */
export const ActorSchema = z.object({ kind: z.enum(['user', 'service']), id: name, name });

/** The aggregate an event is about; events of one aggregate keep their order within a topic. */
export const AggregateSchema = z.object({ type: z.string().min(1).max(100), id: z.string().min(1).max(200) });

/** Payload schemas of every event type, by name; the version of each is in {@link EVENT_VERSIONS}. */
export const EVENT_PAYLOADS = {
  'document.uploaded': z.object({
    documentId: uuid,
    title: z.string().min(1).max(500),
    mimeType: z.string().min(3).max(200),
  }),
  'document.ingested': z.object({
    documentId: uuid,
    chunkCount: z.number().int().min(0),
    status: z.enum(['READY', 'FAILED']),
  }),
  'task.created': z.object({ taskId: uuid, title: z.string().min(1).max(500) }),
  'task.status_changed': z.object({
    taskId: uuid,
    from: z.string().min(1).max(40),
    to: z.string().min(1).max(40),
    reason: z.string().max(500).optional(),
  }),
  'approval.requested': z.object({
    approvalId: uuid,
    taskId: uuid,
    riskLevel: z.enum(['SAFE', 'MEDIUM', 'HIGH']),
  }),
  'approval.decided': z.object({
    approvalId: uuid,
    taskId: uuid,
    decision: z.enum(['APPROVED', 'REJECTED']),
    decidedBy: name,
  }),
  'killswitch.changed': z.object({ engaged: z.boolean(), reason: z.string().max(1000).nullable() }),
} as const;

/** Current schema version of every event type; bump it with a new payload schema. */
export const EVENT_VERSIONS: Record<EventType, number> = {
  'document.uploaded': 1,
  'document.ingested': 1,
  'task.created': 1,
  'task.status_changed': 1,
  'approval.requested': 1,
  'approval.decided': 1,
  'killswitch.changed': 1,
};

/** The name of an event type; also its topic (one stream per topic). */
export type EventType = keyof typeof EVENT_PAYLOADS;

/** Every event type, in catalogue order. */
export const EVENT_TYPES = Object.keys(EVENT_PAYLOADS) as EventType[];

/** The payload of event type `T`. */
export type EventPayload<T extends EventType> = z.infer<(typeof EVENT_PAYLOADS)[T]>;

/** An actor ({@link ActorSchema}). */
export type Actor = z.infer<typeof ActorSchema>;

/** What every event carries around its payload. */
export interface EventEnvelope<T extends EventType = EventType> {
  id: string;
  type: T;
  version: number;
  tenantId: string;
  actor: Actor;
  onBehalfOf?: { id: string; name: string };
  aggregate: { type: string; id: string };
  occurredAt: string;
  traceparent?: string;
  tracestate?: string;
  payload: EventPayload<T>;
}

const EnvelopeBase = z.object({
  id: uuid,
  type: z.enum(EVENT_TYPES as [EventType, ...EventType[]]),
  version: z.number().int().min(1),
  tenantId: uuid,
  actor: ActorSchema,
  onBehalfOf: z.object({ id: name, name }).optional(),
  aggregate: AggregateSchema,
  occurredAt: z.iso.datetime(),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
  tracestate: z.string().max(512).optional(),
  payload: z.unknown(),
});

/** Whether `value` names a catalogued event type. */
export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_PAYLOADS, value);
}

/**
 * Validates an envelope (on publish and on consume): its shape, a known type at its current version,
 * and the payload against that type's schema. Throws a zod error naming every problem.
 */
export function parseEnvelope(value: unknown): EventEnvelope {
  const base = EnvelopeBase.parse(value);
  const expected = EVENT_VERSIONS[base.type];
  if (base.version !== expected) {
    throw new z.ZodError([
      {
        code: 'custom',
        path: ['version'],
        message: `${base.type} is at version ${expected}; got version ${base.version}`,
        input: base.version,
      },
    ]);
  }
  const payload = EVENT_PAYLOADS[base.type].safeParse(base.payload);
  if (!payload.success) {
    throw new z.ZodError(
      payload.error.issues.map((issue) => ({ ...issue, path: ['payload', ...issue.path] })),
    );
  }
  return { ...base, payload: payload.data } as EventEnvelope;
}
