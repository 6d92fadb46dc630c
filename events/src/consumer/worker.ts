import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { type AuditEntry, recordAudits } from '#kernel/audit/audit-log.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { isName, isUuid, NAME_RULE } from '#kernel/ids.ts';
import type { Logger } from '#kernel/logger.ts';
import {
  ATTR_EVENT_ATTEMPT,
  ATTR_EVENT_BATCH_SIZE,
  ATTR_EVENT_OUTCOME,
  ATTR_MESSAGING_CONSUMER_GROUP,
  ATTR_MESSAGING_DESTINATION,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TENANT_ID,
} from '#kernel/telemetry/attributes.ts';
import { extractTraceContext } from '#kernel/telemetry/trace-context.ts';
import { type Actor, definitionsOf, type EventDefinitions, parseEnvelope } from '../catalogue.ts';
import { DEFAULT_CLAIM_IDLE_MS, DEFAULT_RETRY_BACKOFF_MS } from '../defaults.ts';
import { describeError, isUnrecoverable, UnrecoverableError } from '../errors.ts';
import { publish } from '../producer/outbox.ts';
import type { Delivery, StreamTransport } from '../transport/transport.ts';
import { type AnyEnvelope, type ConsumerContext, type ConsumerDefinition, topicsOf } from './consumer.ts';

/** Failed deliveries after which an event goes to the dead-letter stream. */
export const MAX_DELIVERIES = 3;
/** How long one read waits for new entries (also bounds how long `close()` waits for the read). */
export const DEFAULT_BLOCK_MS = 1_000;

/** Options of {@link EventWorker}. */
export interface EventWorkerOptions {
  orm: MikroORM;
  transport: StreamTransport;
  consumer: ConsumerDefinition;
  /** Unique per process (e.g. `host-pid`); the transport's consumer name. */
  consumerName: string;
  concurrency: number;
  /**
   * The worker's own service identity in a tenant, proven by a verified service token
   * (service-actor.ts `loadWorkerIdentity`/`verifiedWorkerIdentity`): the actor of every effect's
   * audit record and of follow-up events. Called per event; expected to cache.
   */
  actorFor: (tenantId: string) => Promise<Actor>;
  claimIdleMs?: number;
  retryBackoffMs?: number;
  blockMs?: number;
  logger?: Logger;
}

/** What a worker has done since it started. */
export interface WorkerCounters {
  handled: number;
  duplicates: number;
  failedAttempts: number;
  deadLettered: number;
  reclaimed: number;
  /** Batches whose transaction failed, so that their events were handled again one by one. */
  batchFallbacks: number;
  /** Transactions committed (handled / transactions is the mean batch). */
  transactions: number;
}

/** A delivery with its parsed event and its aggregate's ordering key. */
interface Item {
  delivery: Delivery;
  event: AnyEnvelope;
  key: string;
}

/** An item in a transaction, with the attempt the handler sees. */
interface Attempt extends Item {
  attempt: number;
}

type Outcome = 'handled' | 'duplicate';

const tracer = trace.getTracer('widgetdc.events');

/**
 * Runs one consumer definition: reads its group's new entries with bounded concurrency, reclaims
 * entries other consumers left pending too long, runs the handler in the event's tenant
 * transaction with the event id recorded as processed, acknowledges only after commit, retries
 * with exponential backoff and dead-letters after {@link MAX_DELIVERIES} failed deliveries (at once
 * for an unrecoverable error). Events of one aggregate are handled in order within a process.
 * A consumer with `maxBatch` > 1 has each tenant's events handled in batches of up to that many, one
 * transaction at a time per tenant (a failed batch falls back to one transaction per event).
 * Each handled event writes one audit record in that transaction: the worker's service identity
 * (`actorFor`) on behalf of the user who caused the event, action `<group>.<event type>`.
 */
export class EventWorker {
  readonly counters: WorkerCounters = {
    handled: 0,
    duplicates: 0,
    failedAttempts: 0,
    deadLettered: 0,
    reclaimed: 0,
    batchFallbacks: 0,
    transactions: 0,
  };
  readonly #o: Required<Omit<EventWorkerOptions, 'logger' | 'actorFor'>> & {
    logger: Logger | undefined;
  };
  readonly #actorFor: (tenantId: string) => Promise<Actor>;
  #inFlight = 0;
  readonly #tasks = new Set<Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();
  /** Per tenant, the events waiting for the lane's running batch (batching consumers). */
  readonly #lanes = new Map<string, Item[]>();
  #slotFreed: (() => void) | undefined;
  #stopping = false;
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];
  readonly #topics: readonly string[];
  readonly #definitions: EventDefinitions;

  constructor(options: EventWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`concurrency must be a whole number of at least 1 (got ${options.concurrency})`);
    }
    if (!isName(options.consumer.group)) {
      throw new Error(`consumer group "${options.consumer.group}" must be ${NAME_RULE}`);
    }
    this.#actorFor = options.actorFor;
    this.#topics = topicsOf(options.consumer);
    this.#definitions = definitionsOf(options.consumer.events);
    this.#o = {
      claimIdleMs: DEFAULT_CLAIM_IDLE_MS,
      retryBackoffMs: DEFAULT_RETRY_BACKOFF_MS,
      blockMs: DEFAULT_BLOCK_MS,
      ...options,
      logger: options.logger,
    };
  }

  /**
   * Events read and not yet acknowledged, at most: the concurrency, and for a batching consumer one
   * batch more, read ahead while its transactions run so that a stall (a slow commit) backs events
   * up into a bigger next batch instead of leaving them unread.
   */
  get #capacity(): number {
    const batch = this.#o.consumer.maxBatch ?? 1;
    return this.#o.concurrency + (batch > 1 ? batch : 0);
  }

  /** Events being handled right now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Creates the group on every topic and starts reading and reclaiming. */
  async start(): Promise<void> {
    await this.#ensureGroups();
    this.#loops = [this.#readLoop(), this.#claimLoop()];
  }

  async #ensureGroups(): Promise<void> {
    for (const topic of this.#topics) await this.#o.transport.ensureGroup(topic, this.#o.consumer.group);
  }

  async #readLoop(): Promise<void> {
    const { transport, consumer, consumerName } = this.#o;
    while (!this.#stopping) {
      const free = this.#capacity - this.#inFlight;
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          this.#slotFreed = resolve;
        });
        continue;
      }
      try {
        const deliveries = await transport.read(
          consumer.group,
          consumerName,
          [...this.#topics],
          free,
          this.#o.blockMs,
        );
        this.#dispatchAll(deliveries);
      } catch (error) {
        if (this.#stopping) break;
        this.#o.logger?.warn('read failed; retrying', { error: String(error) });
        await sleep(this.#o.blockMs);
        if (String(error).includes('NOGROUP')) await this.#ensureGroups().catch(() => {});
      }
    }
  }

  async #claimLoop(): Promise<void> {
    const { transport, consumer, consumerName, claimIdleMs } = this.#o;
    const every = Math.max(50, Math.floor(claimIdleMs / 2));
    while (!this.#stopping) {
      try {
        await sleep(every, undefined, { signal: this.#abort.signal });
      } catch {
        return; // closing
      }
      for (const topic of this.#topics) {
        const free = this.#capacity - this.#inFlight;
        if (this.#stopping || free <= 0) break;
        try {
          const claimed = await transport.claimStale(consumer.group, consumerName, topic, claimIdleMs, free);
          this.counters.reclaimed += claimed.length;
          this.#dispatchAll(claimed);
        } catch (error) {
          this.#o.logger?.warn('reclaim failed', { topic, error: String(error) });
        }
      }
    }
  }

  /**
   * Schedules what one read returned. Without batching, each event runs after the unfinished work
   * on its aggregate, so each aggregate's events are handled in order within a process. With
   * batching, each tenant has a lane: one transaction at a time, of up to `maxBatch` of the
   * tenant's events in reading order, while the events read meanwhile queue up for the next one
   * (group commit: batches grow with the load, and one tenant's transactions never contend for its
   * audit chain).
   */
  #dispatchAll(deliveries: readonly Delivery[]): void {
    const batching = (this.#o.consumer.maxBatch ?? 1) > 1;
    const byTenant = new Map<string, Item[]>();
    for (const delivery of deliveries) {
      let event: AnyEnvelope;
      try {
        event = this.#parse(delivery);
      } catch (error) {
        this.#schedule([], [delivery], () =>
          this.#deadLetter(delivery, error, delivery.deliveryCount, undefined),
        );
        continue;
      }
      const item = {
        delivery,
        event,
        key: `${delivery.stream}|${event.aggregate.type}:${event.aggregate.id}`,
      };
      if (!batching) {
        this.#schedule([item.key], [delivery], () => this.#handle(item));
        continue;
      }
      const lane = byTenant.get(event.tenantId);
      if (lane) lane.push(item);
      else byTenant.set(event.tenantId, [item]);
    }
    for (const [tenantId, items] of byTenant) this.#enqueue(tenantId, items);
  }

  /** Adds events to their tenant's lane, starting the lane if it is not running. */
  #enqueue(tenantId: string, items: readonly Item[]): void {
    this.#inFlight += items.length;
    const waiting = this.#lanes.get(tenantId);
    if (waiting) {
      waiting.push(...items);
      return;
    }
    this.#lanes.set(tenantId, [...items]);
    const task: Promise<void> = this.#runLane(tenantId).finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  async #runLane(tenantId: string): Promise<void> {
    const queue = this.#lanes.get(tenantId)!;
    while (queue.length > 0) {
      const batch = queue.splice(0, this.#o.consumer.maxBatch ?? 1);
      try {
        await this.#handleBatch(batch);
      } catch (error) {
        this.#leftPending(
          batch.map((item) => item.delivery),
          error,
        );
      } finally {
        this.#inFlight -= batch.length;
        this.#slotFreed?.();
        this.#slotFreed = undefined;
      }
    }
    this.#lanes.delete(tenantId);
  }

  #leftPending(deliveries: readonly Delivery[], error: unknown): void {
    this.#o.logger?.error('events left pending (they will be reclaimed)', {
      ids: deliveries.map((d) => `${d.stream}/${d.id}`),
      error: String(error),
    });
  }

  #schedule(keys: readonly string[], deliveries: readonly Delivery[], run: () => Promise<void>): void {
    const previous = keys.flatMap((key) => this.#chains.get(key) ?? []);
    const task: Promise<void> = (previous.length > 0 ? Promise.all(previous) : Promise.resolve())
      .then(run)
      .catch((error: unknown) => this.#leftPending(deliveries, error))
      .finally(() => {
        this.#inFlight -= deliveries.length;
        this.#tasks.delete(task);
        for (const key of keys) if (this.#chains.get(key) === task) this.#chains.delete(key);
        this.#slotFreed?.();
        this.#slotFreed = undefined;
      });
    for (const key of keys) this.#chains.set(key, task);
    this.#inFlight += deliveries.length;
    this.#tasks.add(task);
  }

  #parse(delivery: Delivery): AnyEnvelope {
    const event = parseEnvelope(JSON.parse(delivery.body), this.#definitions) as AnyEnvelope;
    if (event.type !== delivery.stream) {
      throw new UnrecoverableError(`event ${event.type} arrived on stream ${delivery.stream}`);
    }
    return event;
  }

  /**
   * Handles a batch in one transaction and acknowledges it after the commit. If the transaction
   * fails, every event is handled again on its own, so one event's failure neither holds back nor
   * costs an attempt to the others, and only the failing event retries and is dead-lettered.
   */
  async #handleBatch(items: readonly Item[]): Promise<void> {
    if (items.length === 1) return this.#handle(items[0]!);
    let outcomes: Outcome[];
    try {
      outcomes = await this.#transaction(
        items.map((item) => ({ ...item, attempt: item.delivery.deliveryCount })),
      );
    } catch (error) {
      this.counters.batchFallbacks++;
      this.#o.logger?.debug('batch rolled back; handling its events one by one', {
        events: items.length,
        error: describeError(error),
      });
      for (const item of items) await this.#handle(item);
      return;
    }
    this.#count(outcomes);
    // After the commit. If an acknowledgement fails, the entries stay pending and are reclaimed;
    // the processed-id ledger then makes them duplicates.
    const byStream = new Map<string, string[]>();
    for (const { delivery } of items)
      byStream.set(delivery.stream, [...(byStream.get(delivery.stream) ?? []), delivery.id]);
    await Promise.all(
      [...byStream].map(([stream, ids]) => this.#o.transport.ack(this.#o.consumer.group, stream, ids)),
    );
  }

  /** Handles one event in its own transaction, retrying with backoff, dead-lettering at the end. */
  async #handle(item: Item): Promise<void> {
    const { consumer, transport } = this.#o;
    const { delivery, event } = item;
    for (let attempt = delivery.deliveryCount; ; attempt++) {
      try {
        this.#count(await this.#transaction([{ ...item, attempt }]));
        await transport.ack(consumer.group, delivery.stream, [delivery.id]);
        return;
      } catch (error) {
        this.counters.failedAttempts++;
        if (isUnrecoverable(error) || attempt >= MAX_DELIVERIES) {
          await this.#deadLetter(delivery, error, attempt, event.tenantId);
          return;
        }
        this.#o.logger?.debug('attempt failed; retrying', {
          id: event.id,
          attempt,
          error: describeError(error),
        });
        await sleep(this.#o.retryBackoffMs * 2 ** (attempt - 1));
      }
    }
  }

  #count(outcomes: readonly Outcome[]): void {
    for (const outcome of outcomes) {
      if (outcome === 'duplicate') this.counters.duplicates++;
      else this.counters.handled++;
    }
  }

  /**
   * One transaction in the events' tenant (all of `attempts` share it): records their ids as
   * processed, runs the handler for each id not processed before, in order, each in its own span
   * continuing its producer's trace, and appends their audit records.
   */
  async #transaction(attempts: readonly Attempt[]): Promise<Outcome[]> {
    const { consumer, orm } = this.#o;
    const tenantId = attempts[0]!.event.tenantId;
    const traced = attempts.map((attempt) => this.#startSpan(attempt, attempts.length));
    let failed: number | undefined;
    try {
      // Before the transaction: no connection is held while a token is fetched or verified.
      const actor = await this.#actorFor(tenantId);
      const outcomes = await withTenant(orm, tenantId, async (em) => {
        const fresh = await recordProcessed(em, tenantId, consumer.group, attempts);
        const outcomes: Outcome[] = [];
        const audits: AuditEntry[] = [];
        for (const [n, attempt] of attempts.entries()) {
          const { event } = attempt;
          if (!fresh.delete(event.id.toLowerCase())) {
            outcomes.push('duplicate');
            continue;
          }
          // The user whose action caused this, also through a chain of follow-up events.
          const origin = event.onBehalfOf ?? { id: event.actor.id, name: event.actor.name };
          const { span, parent } = traced[n]!;
          failed = n;
          await context.with(trace.setSpan(parent, span), () =>
            consumer.handle(event, this.#context(em, attempt, actor, origin)),
          );
          failed = undefined;
          outcomes.push('handled');
          if (consumer.audited !== false) {
            audits.push({
              actor: { ...actor, onBehalfOf: origin },
              action: `${consumer.group}.${event.type}`,
              targetType: event.aggregate.type,
              targetId: event.aggregate.id,
              outcome: 'success',
              input: { eventId: event.id, type: event.type },
              traceId: span.spanContext().traceId,
            });
          }
        }
        await recordAudits(em, tenantId, audits);
        return outcomes;
      });
      this.counters.transactions++;
      for (const [n, { span }] of traced.entries()) {
        span.setAttribute(ATTR_EVENT_OUTCOME, outcomes[n]!);
        span.end();
      }
      return outcomes;
    } catch (error) {
      for (const [n, { span }] of traced.entries()) {
        if (failed === undefined || failed === n) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
        } else {
          // Another event of the batch failed; this one's effect was rolled back with it.
          span.setAttribute(ATTR_EVENT_OUTCOME, 'rolled_back');
        }
        span.end();
      }
      throw error;
    }
  }

  #startSpan({ event, delivery, attempt }: Attempt, batchSize: number): { span: Span; parent: Context } {
    const parent = extractTraceContext(event);
    const remote = trace.getSpanContext(parent);
    const span = tracer.startSpan(
      `process ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        links: remote ? [{ context: remote }] : [],
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: this.#o.transport.kind,
          [ATTR_MESSAGING_DESTINATION]: delivery.stream,
          [ATTR_MESSAGING_MESSAGE_ID]: event.id,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
          [ATTR_MESSAGING_CONSUMER_GROUP]: this.#o.consumer.group,
          [ATTR_TENANT_ID]: event.tenantId,
          [ATTR_EVENT_ATTEMPT]: attempt,
          [ATTR_EVENT_BATCH_SIZE]: batchSize,
        },
      },
      parent,
    );
    return { span, parent };
  }

  #context(
    em: EntityManager,
    { event, attempt }: Attempt,
    actor: Actor,
    origin: NonNullable<AnyEnvelope['onBehalfOf']>,
  ): ConsumerContext {
    return {
      em,
      group: this.#o.consumer.group,
      attempt,
      logger: this.#o.logger ?? silentLogger,
      publish: (definition, input) =>
        publish(em, definition, {
          ...input,
          tenantId: event.tenantId,
          actor,
          onBehalfOf: input.onBehalfOf ?? origin,
        }),
    };
  }

  async #deadLetter(delivery: Delivery, error: unknown, attempts: number, tenantId: string | undefined) {
    await this.#o.transport.deadLetter(delivery, {
      group: this.#o.consumer.group,
      consumer: this.#o.consumerName,
      error: describeError(error),
      attempts,
      tenantId,
    });
    this.counters.deadLettered++;
    this.#o.logger?.warn('event dead-lettered', {
      stream: delivery.stream,
      id: delivery.id,
      attempts,
      error: describeError(error),
    });
  }

  /** Stops reading, lets in-flight events finish (each acknowledged after its commit), then returns. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    this.#slotFreed?.();
    await Promise.allSettled(this.#loops);
    await Promise.allSettled([...this.#tasks]);
  }
}

/**
 * Records the events' ids as processed for `group` with one statement; returns the ids (lower
 * case) that were new. Literals, not parameters: the ids are validated UUIDs and the group matches
 * [a-z0-9-], so the statement is safe, and without parameters node-postgres sends one
 * simple-protocol message instead of five extended-protocol ones (the hot path).
 */
async function recordProcessed(
  em: EntityManager,
  tenantId: string,
  group: string,
  items: readonly Item[],
): Promise<Set<string>> {
  const tenant = uuidLiteral(tenantId);
  const rows = await em.execute<{ event_id: string }[]>(
    `insert into platform.processed_events (tenant_id, consumer_group, event_id)
     values ${items.map(({ event }) => `('${tenant}', '${group}', '${uuidLiteral(event.id)}')`).join(', ')}
     on conflict do nothing returning event_id`,
  );
  return new Set(rows.map((row) => row.event_id.toLowerCase()));
}

function uuidLiteral(value: string): string {
  if (!isUuid(value)) throw new UnrecoverableError(`"${value}" is not a UUID`);
  return value;
}

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

/** The topics a set of consumers reads, without duplicates. */
export function topicsOfAll(consumers: readonly ConsumerDefinition[]): string[] {
  return [...new Set(consumers.flatMap(topicsOf))];
}
