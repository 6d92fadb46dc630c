import type { Logger } from '#kernel/logger.ts';
import type { Delivery } from '../../transport/transport.ts';
import { Permits } from './permits.ts';
import type { WorkItem } from './work-item.ts';

/** What {@link Scheduler} runs; each returns once the work is settled (acknowledged or dead-lettered). */
export interface SchedulerDeps {
  /** Largest batch (1: no batching). */
  maxBatch: number;
  /** Most handlers (transactions) running at once, however many events are in hand. */
  concurrency: number;
  parse: (delivery: Delivery) => WorkItem;
  handle: (item: WorkItem) => Promise<void>;
  handleBatch: (items: readonly WorkItem[]) => Promise<void>;
  /** Settles a delivery that could not be parsed. */
  reject: (delivery: Delivery, error: unknown) => Promise<void>;
  logger: Logger | undefined;
}

/**
 * Decides when each read event runs, and counts what is in flight. Without batching, each event
 * runs after the unfinished work on its aggregate, so each aggregate's events are handled in order
 * within a process. With batching, each tenant has a lane: one transaction at a time, of up to
 * `maxBatch` of the tenant's events in reading order, while the events read meanwhile queue up for
 * the next one (group commit: batches grow with the load, and one tenant's transactions never
 * contend for its audit chain). Whatever is in hand, at most `concurrency` handlers or batches run
 * at once (the rest wait for a permit, still pending to this consumer).
 */
export class Scheduler {
  readonly #d: SchedulerDeps;
  #inFlight = 0;
  readonly #tasks = new Set<Promise<void>>();
  /** Per aggregate key, the last scheduled task (non-batching consumers). */
  readonly #chains = new Map<string, Promise<void>>();
  /** Per tenant, the events waiting for the lane's running batch (batching consumers). */
  readonly #lanes = new Map<string, WorkItem[]>();
  #slotFreed: (() => void) | undefined;
  readonly #permits: Permits;
  /** Deliveries in hand (read or reclaimed, not yet settled). */
  readonly #held = new Set<Delivery>();

  constructor(deps: SchedulerDeps) {
    this.#d = deps;
    this.#permits = new Permits(deps.concurrency);
  }

  /** Events read and not yet settled. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** The deliveries in hand: read or reclaimed and not yet settled. */
  held(): Delivery[] {
    return [...this.#held];
  }

  /** Resolves when an event settles (or {@link wake} is called). */
  slotFreed(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#slotFreed = resolve;
    });
  }

  /** Releases a waiting {@link slotFreed} (when closing). */
  wake(): void {
    this.#slotFreed?.();
    this.#slotFreed = undefined;
  }

  /** Schedules what one read returned. */
  dispatchAll(deliveries: readonly Delivery[]): void {
    const batching = this.#d.maxBatch > 1;
    const byTenant = new Map<string, WorkItem[]>();
    for (const delivery of deliveries) {
      let item: WorkItem;
      try {
        item = this.#d.parse(delivery);
      } catch (error) {
        this.#schedule([], [delivery], () => this.#d.reject(delivery, error));
        continue;
      }
      if (!batching) {
        this.#schedule([item.key], [delivery], () => this.#d.handle(item));
        continue;
      }
      const lane = byTenant.get(item.event.tenantId);
      if (lane) lane.push(item);
      else byTenant.set(item.event.tenantId, [item]);
    }
    for (const [tenantId, items] of byTenant) this.#enqueue(tenantId, items);
  }

  /** Waits for every scheduled task to settle. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#tasks]);
  }

  /** Adds events to their tenant's lane, starting the lane if it is not running. */
  #enqueue(tenantId: string, items: readonly WorkItem[]): void {
    this.#inFlight += items.length;
    for (const item of items) this.#held.add(item.delivery);
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
      const batch = queue.splice(0, this.#d.maxBatch);
      try {
        await this.#permits.run(() => this.#d.handleBatch(batch));
      } catch (error) {
        this.#leftPending(
          batch.map((item) => item.delivery),
          error,
        );
      } finally {
        this.#inFlight -= batch.length;
        for (const item of batch) this.#held.delete(item.delivery);
        this.wake();
      }
    }
    this.#lanes.delete(tenantId);
  }

  #schedule(keys: readonly string[], deliveries: readonly Delivery[], run: () => Promise<void>): void {
    const previous = keys.flatMap((key) => this.#chains.get(key) ?? []);
    const task: Promise<void> = (previous.length > 0 ? Promise.all(previous) : Promise.resolve())
      .then(() => this.#permits.run(run))
      .catch((error: unknown) => this.#leftPending(deliveries, error))
      .finally(() => {
        this.#inFlight -= deliveries.length;
        for (const delivery of deliveries) this.#held.delete(delivery);
        this.#tasks.delete(task);
        for (const key of keys) if (this.#chains.get(key) === task) this.#chains.delete(key);
        this.wake();
      });
    for (const key of keys) this.#chains.set(key, task);
    this.#inFlight += deliveries.length;
    for (const delivery of deliveries) this.#held.add(delivery);
    this.#tasks.add(task);
  }

  #leftPending(deliveries: readonly Delivery[], error: unknown): void {
    this.#d.logger?.error('events left pending (they will be reclaimed)', {
      ids: deliveries.map((d) => `${d.stream}/${d.id}`),
      error: String(error),
    });
  }
}
