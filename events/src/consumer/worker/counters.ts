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

/** What a transaction did with one event: ran its handler, or found its id already processed. */
export type Outcome = 'handled' | 'duplicate';

/** Counters at zero. */
export function createCounters(): WorkerCounters {
  return {
    handled: 0,
    duplicates: 0,
    failedAttempts: 0,
    deadLettered: 0,
    reclaimed: 0,
    batchFallbacks: 0,
    transactions: 0,
  };
}

/** Adds a committed transaction's outcomes to the counters. */
export function countOutcomes(counters: WorkerCounters, outcomes: readonly Outcome[]): void {
  for (const outcome of outcomes) {
    if (outcome === 'duplicate') counters.duplicates++;
    else counters.handled++;
  }
}
