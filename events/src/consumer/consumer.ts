import type { EntityManager, EntitySchema } from '@mikro-orm/postgresql';
import { isName, NAME_RULE } from '#kernel/ids.ts';
import type { Logger } from '#kernel/logger.ts';
import {
  type Actor,
  type AnyEnvelope,
  definitionsOf,
  type EventDefinition,
  type EventEnvelope,
} from '../catalogue.ts';
import type { PublishInput } from '../producer/outbox.ts';

export type { AnyEnvelope } from '../catalogue.ts';

/** The largest `maxBatch` a consumer may declare. */
export const MAX_BATCH = 500;

/** A follow-up event published by a consumer: tenant and actor come from the worker. */
export type FollowUpInput<D extends EventDefinition = EventDefinition> = Omit<
  PublishInput<D>,
  'tenantId' | 'actor'
>;

/** What a handler gets besides the event. */
export interface ConsumerContext {
  /** EntityManager of the transaction `withTenant(event.tenantId)` opened for this event. */
  readonly em: EntityManager;
  readonly group: string;
  /** Delivery attempt, from 1; the event is dead-lettered after the third failure. */
  readonly attempt: number;
  readonly logger: Logger;
  /** The worker's verified service identity, the actor of the follow-up events it publishes. */
  readonly actor: Actor;
  /**
   * Publishes a follow-up event through the outbox in this transaction, as the worker's service
   * identity on behalf of the original event's actor.
   */
  publish<D extends EventDefinition>(definition: D, input: FollowUpInput<D>): Promise<EventEnvelope<D>>;
  /**
   * Publishes a follow-up event in another transaction the handler opened (`em`'s, in the same
   * tenant): a change that must be visible before, or survive the rollback of, the event's own
   * transaction. Same identity as {@link publish}.
   */
  publishIn<D extends EventDefinition>(
    em: EntityManager,
    definition: D,
    input: FollowUpInput<D>,
  ): Promise<EventEnvelope<D>>;
}

/**
 * A consumer: its group, the topics it reads, and a handler that runs inside the event's tenant
 * transaction. The event id is recorded as processed in that same transaction, so a redelivered
 * event has no second effect. Throw `RetryableError` (or any error) to retry with backoff,
 * `UnrecoverableError` to dead-letter at once.
 */
export interface ConsumerDefinition<D extends EventDefinition = EventDefinition> {
  readonly group: string;
  /** The event types it reads (their topics); their definitions validate what it reads. */
  readonly events: readonly D[];
  /** Entities the handler uses through `ctx.em` (the worker registers them with its ORM). */
  // biome-ignore lint/suspicious/noExplicitAny: entity schemas of any shape
  readonly entities?: readonly EntitySchema<any, any>[];
  /**
   * Whether each handled event writes an audit record (default true). Only consumers whose effect
   * changes no tenant data (e.g. live pushes) turn it off.
   */
  readonly audited?: boolean;
  /**
   * The most events of one tenant handled in one transaction (default 1, at most
   * {@link MAX_BATCH}). Worth raising for fast handlers, whose cost is the transaction and not
   * the work. A batching worker runs one transaction at a time per tenant, and the tenant's
   * events read meanwhile form the next batch, so under load it commits, audits and acknowledges
   * many events at once, and at low load handles each at once. It reads up to `maxBatch` events
   * beyond its concurrency ahead, so the next batch is ready when a transaction commits. The handler runs for a batch's
   * events one after another, so slow handlers (remote calls) keep 1 and get parallelism from the
   * worker's concurrency instead. If a batch's transaction fails, its events are handled again one
   * per transaction (the failing one with its retries, ahead of the tenant's later events):
   * effects on the database happen once, effects outside it may repeat (as with any redelivery).
   */
  readonly maxBatch?: number;
  handle(event: AnyEnvelope<D>, ctx: ConsumerContext): Promise<void>;
}

/** Declares a consumer with its handler's event type inferred from `events`. */
export function defineConsumer<D extends EventDefinition>(
  definition: ConsumerDefinition<D>,
): ConsumerDefinition<D> {
  const group = definition.group;
  if (!isName(group)) {
    throw new Error(`consumer group "${group}" must be ${NAME_RULE}`);
  }
  if (definition.events.length === 0)
    throw new Error(`consumer group "${group}" must read at least one topic`);
  const { maxBatch } = definition;
  if (maxBatch !== undefined && !(Number.isInteger(maxBatch) && maxBatch >= 1 && maxBatch <= MAX_BATCH)) {
    throw new Error(
      `consumer group "${group}": maxBatch must be a whole number from 1 to ${MAX_BATCH} (got ${maxBatch})`,
    );
  }
  definitionsOf(definition.events);
  return definition;
}

/** The topics (event types) a consumer reads. */
export function topicsOf(consumer: Pick<ConsumerDefinition, 'events'>): string[] {
  return consumer.events.map((e) => e.type);
}
