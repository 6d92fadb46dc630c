import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/postgresql';
import { isName, NAME_RULE } from '#kernel/ids.ts';
import type { Logger } from '#kernel/logger.ts';
import { type Actor, definitionsOf } from '../catalogue.ts';
import { DEFAULT_CLAIM_IDLE_MS, DEFAULT_RETRY_BACKOFF_MS } from '../defaults.ts';
import type { Delivery, StreamTransport } from '../transport/transport.ts';
import { type ConsumerDefinition, topicsOf } from './consumer.ts';
import { createCounters, type WorkerCounters } from './worker/counters.ts';
import { runEventTransaction } from './worker/event-transaction.ts';
import { MAX_DELIVERIES, RetryingHandler } from './worker/retries.ts';
import { Scheduler } from './worker/scheduler.ts';
import { parseDelivery } from './worker/work-item.ts';

export { MAX_DELIVERIES, type WorkerCounters };

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
 *
 * The seams: `worker/scheduler.ts` decides when each event runs, `worker/retries.ts` settles
 * deliveries (ack, retry, dead letter), `worker/event-transaction.ts` is the per-event
 * transaction, `worker/counters.ts` what was done. This class reads and reclaims.
 */
export class EventWorker {
  readonly counters: WorkerCounters = createCounters();
  readonly #o: Required<Omit<EventWorkerOptions, 'logger' | 'actorFor'>> & {
    logger: Logger | undefined;
  };
  readonly #topics: readonly string[];
  readonly #scheduler: Scheduler;
  #stopping = false;
  #loop: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(options: EventWorkerOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`concurrency must be a whole number of at least 1 (got ${options.concurrency})`);
    }
    if (!isName(options.consumer.group)) {
      throw new Error(`consumer group "${options.consumer.group}" must be ${NAME_RULE}`);
    }
    this.#topics = topicsOf(options.consumer);
    this.#o = {
      claimIdleMs: DEFAULT_CLAIM_IDLE_MS,
      retryBackoffMs: DEFAULT_RETRY_BACKOFF_MS,
      blockMs: DEFAULT_BLOCK_MS,
      ...options,
      logger: options.logger,
    };
    const { orm, transport, consumer, consumerName, retryBackoffMs, logger } = this.#o;
    const counters = this.counters;
    const retrying = new RetryingHandler({
      transport,
      group: consumer.group,
      consumerName,
      retryBackoffMs,
      logger,
      counters,
      transaction: (attempts) =>
        runEventTransaction(
          { orm, consumer, system: transport.kind, actorFor: options.actorFor, logger, counters },
          attempts,
        ),
    });
    const definitions = definitionsOf(consumer.events);
    this.#scheduler = new Scheduler({
      maxBatch: consumer.maxBatch ?? 1,
      concurrency: options.concurrency,
      parse: (delivery) => parseDelivery(delivery, definitions),
      handle: (item) => retrying.handle(item),
      handleBatch: (items) => retrying.handleBatch(items),
      reject: (delivery, error) => retrying.deadLetter(delivery, error, delivery.deliveryCount, undefined),
      logger,
    });
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
    return this.#scheduler.inFlight;
  }

  /** Creates the group on every topic and starts reading and reclaiming. */
  async start(): Promise<void> {
    await this.#ensureGroups();
    this.#loop = Promise.all([this.#readLoop(), this.#touchLoop()]).then(() => {});
  }

  async #ensureGroups(): Promise<void> {
    for (const topic of this.#topics) await this.#o.transport.ensureGroup(topic, this.#o.consumer.group);
  }

  /**
   * One loop reads and reclaims, so the free slots it hands out are counted once. Reclaiming goes
   * first whenever it is due: entries a crashed consumer left behind are older than anything new,
   * and with a backlog of new entries a reclaim that only ran when a slot happened to be free would
   * leave them waiting until the backlog is gone.
   */
  async #readLoop(): Promise<void> {
    const { transport, consumer, consumerName, claimIdleMs } = this.#o;
    const every = Math.max(50, Math.floor(claimIdleMs / 2));
    let claimAt = Date.now() + every;
    while (!this.#stopping) {
      let free = this.#capacity - this.inFlight;
      if (free <= 0) {
        await this.#scheduler.slotFreed();
        continue;
      }
      if (Date.now() >= claimAt) {
        claimAt = Date.now() + every;
        free -= await this.#reclaim(free);
        if (free <= 0 || this.#stopping) continue;
      }
      try {
        const deliveries = await transport.read(
          consumer.group,
          consumerName,
          [...this.#topics],
          free,
          // Back in time for the next reclaim (0 would block for ever).
          Math.max(1, Math.min(this.#o.blockMs, claimAt - Date.now())),
        );
        this.#scheduler.dispatchAll(deliveries);
      } catch (error) {
        if (this.#stopping) break;
        this.#o.logger?.warn('read failed; retrying', { error: String(error) });
        await sleep(this.#o.blockMs);
        if (String(error).includes('NOGROUP')) await this.#ensureGroups().catch(() => {});
      }
    }
  }

  /**
   * Keeps the entries in hand fresh (every third of `claimIdleMs`): a long event (a big document)
   * is not taken over by another consumer's reclaim while this one works on it, which would raise
   * its delivery count towards the dead letter and have two workers on it.
   */
  async #touchLoop(): Promise<void> {
    const { transport, consumer, consumerName, claimIdleMs } = this.#o;
    const every = Math.max(50, Math.floor(claimIdleMs / 3));
    while (!this.#stopping) {
      try {
        await sleep(every, undefined, { signal: this.#abort.signal });
      } catch {
        return; // closing
      }
      const byStream = new Map<string, string[]>();
      for (const { stream, id } of this.#scheduler.held())
        byStream.set(stream, [...(byStream.get(stream) ?? []), id]);
      for (const [stream, ids] of byStream) {
        try {
          await transport.touch(consumer.group, consumerName, stream, ids);
        } catch (error) {
          this.#o.logger?.warn('keeping entries fresh failed', { stream, error: String(error) });
        }
      }
    }
  }

  /** Takes over up to `free` entries other consumers left pending too long; returns how many. */
  async #reclaim(free: number): Promise<number> {
    const { transport, consumer, consumerName, claimIdleMs } = this.#o;
    let taken = 0;
    for (const topic of this.#topics) {
      if (this.#stopping || taken >= free) break;
      try {
        const claimed: Delivery[] = await transport.claimStale(
          consumer.group,
          consumerName,
          topic,
          claimIdleMs,
          free - taken,
        );
        this.counters.reclaimed += claimed.length;
        taken += claimed.length;
        this.#scheduler.dispatchAll(claimed);
      } catch (error) {
        this.#o.logger?.warn('reclaim failed', { topic, error: String(error) });
      }
    }
    return taken;
  }

  /** Stops reading, lets in-flight events finish (each acknowledged after its commit), then returns. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    this.#scheduler.wake();
    await this.#loop?.catch(() => {});
    await this.#scheduler.settled();
  }
}

/** The topics a set of consumers reads, without duplicates. */
export function topicsOfAll(consumers: readonly ConsumerDefinition[]): string[] {
  return [...new Set(consumers.flatMap(topicsOf))];
}
