/**
 * A counting semaphore: at most `size` holders at once, the others waiting in arrival order.
 * The worker's `concurrency` is enforced here, where the work runs, and not only by how much it
 * reads: a read (XREADGROUP, which may block) and a reclaim (XAUTOCLAIM) overlap, so more events
 * than the concurrency can be in hand at once, and each running event may need a second database
 * connection (a side transaction) from a pool sized for `concurrency` transactions.
 */
export class Permits {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`permits must be at least 1 (got ${size})`);
    this.#free = size;
  }

  /** Holders right now waiting for a permit. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `work` holding a permit (waiting for one first), and releases it however `work` ends. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The permit passes straight to the next in line, so a newcomer cannot overtake it.
      if (next) next();
      else this.#free++;
    }
  }
}
