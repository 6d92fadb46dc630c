import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { type Link, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { recordAudit } from '../audit/audit-log.ts';
import { withTenant } from '../db/tenant-context.ts';
import type { Logger } from '../logger.ts';
import {
  ATTR_EVENT_ATTEMPT,
  ATTR_EVENT_OUTCOME,
  ATTR_MESSAGING_CONSUMER_GROUP,
  ATTR_MESSAGING_DESTINATION,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_TENANT_ID,
} from '../telemetry/attributes.ts';
import { extractTraceContext, remoteSpanContext } from '../telemetry/trace-context.ts';
import { type Actor, type EventType, parseEnvelope } from './catalogue.ts';
import type { AnyEnvelope, ConsumerContext, ConsumerDefinition } from './consumer.ts';
import { DEFAULT_CLAIM_IDLE_MS, DEFAULT_RETRY_BACKOFF_MS } from './defaults.ts';
import { describeError, isUnrecoverable, UnrecoverableError } from './errors.ts';
import { publish } from './outbox.ts';
import type { Delivery, StreamTransport } from './transport.ts';

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
}

const tracer = trace.getTracer('widgetdc.events');

/**
 * Runs one consumer definition: reads its group's new entries with bounded concurrency, reclaims
 * entries other consumers left pending too long, runs the handler in the event's tenant
 * transaction with the event id recorded as processed, acknowledges only after commit, retries
 * with exponential backoff and dead-letters after {@link MAX_DELIVERIES} failed deliveries (at once
 * for an unrecoverable error). Events of one aggregate are handled in order within a process.
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
  };
  readonly #o: Required<Omit<EventWorkerOptions, 'logger' | 'actorFor'>> & {
    logger: Logger | undefined;
  };
  readonly #actorFor: (tenantId: string) => Promise<Actor>;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();
  #slotFreed: (() => void) | undefined;
  #stopping = false;
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];

  constructor(options: EventWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`concurrency must be a whole number of at least 1 (got ${options.concurrency})`);
    }
    if (!GROUP_NAME.test(options.consumer.group)) {
      throw new Error(
        `consumer group "${options.consumer.group}" must be lowercase letters, digits and dashes`,
      );
    }
    this.#actorFor = options.actorFor;
    this.#o = {
      claimIdleMs: DEFAULT_CLAIM_IDLE_MS,
      retryBackoffMs: DEFAULT_RETRY_BACKOFF_MS,
      blockMs: DEFAULT_BLOCK_MS,
      ...options,
      logger: options.logger,
    };
  }

  /** Events being handled right now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Creates the group on every topic and starts reading and reclaiming. */
  async start(): Promise<void> {
    await this.#ensureGroups();
    this.#loops = [this.#readLoop(), this.#claimLoop()];
  }

  async #ensureGroups(): Promise<void> {
    for (const topic of this.#o.consumer.topics)
      await this.#o.transport.ensureGroup(topic, this.#o.consumer.group);
  }

  async #readLoop(): Promise<void> {
    const { transport, consumer, consumerName } = this.#o;
    while (!this.#stopping) {
      const free = this.#o.concurrency - this.#inFlight.size;
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
          [...consumer.topics],
          free,
          this.#o.blockMs,
        );
        for (const delivery of deliveries) this.#dispatch(delivery);
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
      for (const topic of consumer.topics) {
        const free = this.#o.concurrency - this.#inFlight.size;
        if (this.#stopping || free <= 0) break;
        try {
          const claimed = await transport.claimStale(consumer.group, consumerName, topic, claimIdleMs, free);
          this.counters.reclaimed += claimed.length;
          for (const delivery of claimed) this.#dispatch(delivery);
        } catch (error) {
          this.#o.logger?.warn('reclaim failed', { topic, error: String(error) });
        }
      }
    }
  }

  #dispatch(delivery: Delivery): void {
    let key = `${delivery.stream}|?`;
    try {
      const aggregate = (JSON.parse(delivery.body) as { aggregate?: { type?: string; id?: string } })
        .aggregate;
      key = `${delivery.stream}|${aggregate?.type}:${aggregate?.id}`;
    } catch {
      // an unparseable body is dead-lettered by #process
    }
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const task: Promise<void> = previous
      .then(() => this.#process(delivery))
      .catch((error: unknown) => {
        this.#o.logger?.error('event left pending (will be reclaimed)', {
          stream: delivery.stream,
          id: delivery.id,
          error: String(error),
        });
      })
      .finally(() => {
        this.#inFlight.delete(task);
        if (this.#chains.get(key) === task) this.#chains.delete(key);
        this.#slotFreed?.();
        this.#slotFreed = undefined;
      });
    this.#chains.set(key, task);
    this.#inFlight.add(task);
  }

  async #process(delivery: Delivery): Promise<void> {
    const { consumer, transport } = this.#o;
    let event: AnyEnvelope;
    try {
      event = parseEnvelope(JSON.parse(delivery.body)) as AnyEnvelope;
      if (!consumer.topics.includes(event.type)) {
        throw new UnrecoverableError(`event ${event.type} arrived on stream ${delivery.stream}`);
      }
    } catch (error) {
      await this.#deadLetter(delivery, error, delivery.deliveryCount, undefined);
      return;
    }
    for (let attempt = delivery.deliveryCount; ; attempt++) {
      try {
        const outcome = await this.#attempt(event, delivery, attempt);
        if (outcome === 'duplicate') this.counters.duplicates++;
        else this.counters.handled++;
        await transport.ack(consumer.group, delivery.stream, delivery.id);
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

  async #attempt(event: AnyEnvelope, delivery: Delivery, attempt: number): Promise<'handled' | 'duplicate'> {
    const { consumer, orm } = this.#o;
    const remote = remoteSpanContext(event);
    const links: Link[] = remote ? [{ context: remote }] : [];
    return tracer.startActiveSpan(
      `process ${event.type}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          [ATTR_MESSAGING_SYSTEM]: this.#o.transport.kind,
          [ATTR_MESSAGING_DESTINATION]: delivery.stream,
          [ATTR_MESSAGING_MESSAGE_ID]: event.id,
          [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
          [ATTR_MESSAGING_CONSUMER_GROUP]: consumer.group,
          [ATTR_TENANT_ID]: event.tenantId,
          [ATTR_EVENT_ATTEMPT]: attempt,
        },
      },
      extractTraceContext(event),
      async (span) => {
        try {
          // Before the transaction: no connection is held while a token is fetched or verified.
          const actor = await this.#actorFor(event.tenantId);
          // The user whose action caused this, also through a chain of follow-up events.
          const origin = event.onBehalfOf ?? { id: event.actor.id, name: event.actor.name };
          const outcome = await withTenant(orm, event.tenantId, async (em) => {
            // Literals, not parameters: both ids are validated UUIDs and the group matches
            // [a-z0-9-], so the statement is safe, and without parameters node-postgres sends one
            // simple-protocol message instead of five extended-protocol ones (the hot path).
            const recorded = await em.execute(
              `insert into platform.processed_events (tenant_id, consumer_group, event_id)
               values ('${uuidLiteral(event.tenantId)}', '${consumer.group}', '${uuidLiteral(event.id)}')
               on conflict do nothing returning event_id`,
            );
            if (recorded.length === 0) return 'duplicate' as const;
            const ctx: ConsumerContext = {
              em,
              group: consumer.group,
              attempt,
              logger: this.#o.logger ?? silentLogger,
              publish: (input) =>
                publish(em, {
                  ...input,
                  tenantId: event.tenantId,
                  actor,
                  onBehalfOf: input.onBehalfOf ?? origin,
                }),
            };
            await consumer.handle(event, ctx);
            if (consumer.audited !== false)
              await recordAudit(em, event.tenantId, {
                actor: { ...actor, onBehalfOf: origin },
                action: `${consumer.group}.${event.type}`,
                targetType: event.aggregate.type,
                targetId: event.aggregate.id,
                outcome: 'success',
                input: { eventId: event.id, type: event.type },
              });
            return 'handled' as const;
          });
          span.setAttribute(ATTR_EVENT_OUTCOME, outcome);
          return outcome;
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
          throw error;
        } finally {
          span.end();
        }
      },
    );
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
    await Promise.allSettled([...this.#inFlight]);
  }
}

const GROUP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function uuidLiteral(value: string): string {
  if (!UUID.test(value)) throw new UnrecoverableError(`"${value}" is not a UUID`);
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
export function topicsOf(consumers: readonly ConsumerDefinition[]): EventType[] {
  return [...new Set(consumers.flatMap((c) => c.topics))];
}
