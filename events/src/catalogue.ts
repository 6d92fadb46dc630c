import { z } from 'zod';
import { uuidSchema } from '#kernel/ids.ts';

/** A UUID field of an event or its payload: the kernel's one UUID rule, as a zod schema. */
export const uuid = uuidSchema;
const name = z.string().min(1).max(200);

/** Who caused an event: a user or a service identity, as verified. */
export const ActorSchema = z.object({ kind: z.enum(['user', 'service']), id: name, name });

/** The aggregate an event is about; events of one aggregate keep their order within a topic. */
export const AggregateSchema = z.object({ type: z.string().min(1).max(100), id: z.string().min(1).max(200) });

/** An event type's name: lowercase words joined by `.` or `_`; it is also the type's topic (its stream). */
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/**
 * One event type as its domain declares it: name (also its topic), schema version and payload
 * schema. The bus knows no event type of its own: publishers and consumers hand it the definitions.
 */
export interface EventDefinition<T extends string = string, P extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly version: number;
  readonly payload: P;
}

/** Declares an event type; bump `version` with a new payload schema. */
export function defineEvent<const T extends string, P extends z.ZodType>(
  type: T,
  version: number,
  payload: P,
): EventDefinition<T, P> {
  if (!EVENT_TYPE_PATTERN.test(type)) {
    throw new Error(`event type "${type}" must be dot-separated lowercase words, e.g. "task.created"`);
  }
  if (!Number.isInteger(version) || version < 1) {
    throw new Error(`event type "${type}": version must be a whole number of at least 1 (got ${version})`);
  }
  return Object.freeze({ type, version, payload });
}

/** The payload of event definition `D`. */
export type PayloadOf<D extends EventDefinition> = z.infer<D['payload']>;

/** An actor ({@link ActorSchema}). */
export type Actor = z.infer<typeof ActorSchema>;

/** What every event carries around its payload. */
export interface EventEnvelope<D extends EventDefinition = EventDefinition> {
  id: string;
  type: D['type'];
  version: number;
  tenantId: string;
  actor: Actor;
  onBehalfOf?: { id: string; name: string };
  aggregate: { type: string; id: string };
  occurredAt: string;
  traceparent?: string;
  tracestate?: string;
  payload: PayloadOf<D>;
}

/** An envelope of one of the definitions `D`, discriminated by `type`. */
export type AnyEnvelope<D extends EventDefinition = EventDefinition> = D extends EventDefinition
  ? EventEnvelope<D>
  : never;

const EnvelopeBase = z.object({
  id: uuid(),
  type: z.string().regex(EVENT_TYPE_PATTERN),
  version: z.number().int().min(1),
  tenantId: uuid(),
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

/** Definitions by type, for {@link parseEnvelope}. */
export type EventDefinitions = ReadonlyMap<string, EventDefinition>;

/** Indexes definitions by type; two definitions of one type are a programming error. */
export function definitionsOf(definitions: readonly EventDefinition[]): EventDefinitions {
  const byType = new Map<string, EventDefinition>();
  for (const definition of definitions) {
    const known = byType.get(definition.type);
    if (known && known !== definition) throw new Error(`event type "${definition.type}" is defined twice`);
    byType.set(definition.type, definition);
  }
  return byType;
}

/**
 * Validates an envelope (on publish and on consume): its shape, a type among `definitions` at its
 * current version, and the payload against that type's schema. Throws a zod error naming every problem.
 */
export function parseEnvelope(value: unknown, definitions: EventDefinitions): EventEnvelope {
  const base = EnvelopeBase.parse(value);
  const definition = definitions.get(base.type);
  if (!definition) {
    throw new z.ZodError([
      {
        code: 'custom',
        path: ['type'],
        message: `${base.type} is not an event type this consumer reads (${[...definitions.keys()].join(', ')})`,
        input: base.type,
      },
    ]);
  }
  if (base.version !== definition.version) {
    throw new z.ZodError([
      {
        code: 'custom',
        path: ['version'],
        message: `${base.type} is at version ${definition.version}; got version ${base.version}`,
        input: base.version,
      },
    ]);
  }
  const payload = definition.payload.safeParse(base.payload);
  if (!payload.success) {
    throw new z.ZodError(
      payload.error.issues.map((issue) => ({ ...issue, path: ['payload', ...issue.path] })),
    );
  }
  return { ...base, payload: payload.data } as EventEnvelope;
}
