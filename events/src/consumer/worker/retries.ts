import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '#kernel/logger.ts';
import { describeError, isUnrecoverable } from '../../errors.ts';
import type { Delivery, StreamTransport } from '../../transport/transport.ts';
import { countOutcomes, type Outcome, type WorkerCounters } from './counters.ts';
import type { Attempt, WorkItem } from './work-item.ts';

/** Failed deliveries after which an event goes to the dead-letter stream. */
export const MAX_DELIVERIES = 3;

/** What {@link RetryingHandler} works with. */
export interface RetryingHandlerDeps {
  transport: StreamTransport;
  group: string;
  consumerName: string;
  retryBackoffMs: number;
  logger: Logger | undefined;
  counters: WorkerCounters;
  /** Runs attempts in one transaction (see event-transaction.ts). */
  transaction: (attempts: readonly Attempt[]) => Promise<Outcome[]>;
}

/**
 * Runs events' transactions and settles their deliveries: acknowledged after the commit, retried
 * with exponential backoff, dead-lettered after {@link MAX_DELIVERIES} failed deliveries (at once
 * for an unrecoverable error).
 */
export class RetryingHandler {
  readonly #d: RetryingHandlerDeps;

  constructor(deps: RetryingHandlerDeps) {
    this.#d = deps;
  }

  /** Handles one event in its own transaction, retrying with backoff, dead-lettering at the end. */
  async handle(item: WorkItem): Promise<void> {
    const { transport, group, counters } = this.#d;
    const { delivery, event } = item;
    for (let attempt = delivery.deliveryCount; ; attempt++) {
      try {
        countOutcomes(counters, await this.#d.transaction([{ ...item, attempt }]));
        await transport.ack(group, delivery.stream, [delivery.id]);
        return;
      } catch (error) {
        counters.failedAttempts++;
        if (isUnrecoverable(error) || attempt >= MAX_DELIVERIES) {
          await this.deadLetter(delivery, error, attempt, event.tenantId);
          return;
        }
        this.#d.logger?.debug('attempt failed; retrying', {
          id: event.id,
          attempt,
          error: describeError(error),
        });
        await sleep(this.#d.retryBackoffMs * 2 ** (attempt - 1));
      }
    }
  }

  /**
   * Handles a batch in one transaction and acknowledges it after the commit. If the transaction
   * fails, every event is handled again on its own, so one event's failure neither holds back nor
   * costs an attempt to the others, and only the failing event retries and is dead-lettered.
   */
  async handleBatch(items: readonly WorkItem[]): Promise<void> {
    if (items.length === 1) return this.handle(items[0]!);
    const { transport, group, counters } = this.#d;
    let outcomes: Outcome[];
    try {
      outcomes = await this.#d.transaction(
        items.map((item) => ({ ...item, attempt: item.delivery.deliveryCount })),
      );
    } catch (error) {
      counters.batchFallbacks++;
      this.#d.logger?.debug('batch rolled back; handling its events one by one', {
        events: items.length,
        error: describeError(error),
      });
      for (const item of items) await this.handle(item);
      return;
    }
    countOutcomes(counters, outcomes);
    // After the commit. If an acknowledgement fails, the entries stay pending and are reclaimed;
    // the processed-id ledger then makes them duplicates.
    const byStream = new Map<string, string[]>();
    for (const { delivery } of items)
      byStream.set(delivery.stream, [...(byStream.get(delivery.stream) ?? []), delivery.id]);
    await Promise.all([...byStream].map(([stream, ids]) => transport.ack(group, stream, ids)));
  }

  /** Moves a delivery to its topic's dead-letter stream with the error and the attempts it had. */
  async deadLetter(delivery: Delivery, error: unknown, attempts: number, tenantId: string | undefined) {
    await this.#d.transport.deadLetter(delivery, {
      group: this.#d.group,
      consumer: this.#d.consumerName,
      error: describeError(error),
      attempts,
      tenantId,
    });
    this.#d.counters.deadLettered++;
    this.#d.logger?.warn('event dead-lettered', {
      stream: delivery.stream,
      id: delivery.id,
      attempts,
      error: describeError(error),
    });
  }
}
