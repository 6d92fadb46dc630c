import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '#kernel/logger.ts';
import {
  type RetentionSweeper,
  SWEEP_INTERVAL_MS,
  startRetentionSweeper,
  sweepOlderThan,
} from './retention-sweeper.ts';

/** How often stored spans past the retention are deleted. */
export const TRACE_SWEEP_INTERVAL_MS = SWEEP_INTERVAL_MS;

const SPANS = { fn: 'observability.sweep_spans', rows: 'spans', retention: 'trace retention' } as const;

/** Deletes every tenant's spans older than `retentionMs` (observability.sweep_spans); returns how many. */
export const sweepTraces = (orm: MikroORM, retentionMs: number): Promise<number> =>
  sweepOlderThan(orm, SPANS, retentionMs);

/** Sweeps now and every {@link TRACE_SWEEP_INTERVAL_MS} (TRACE_RETENTION; ADR 0024). */
export const startTraceSweeper = (
  orm: MikroORM,
  retentionMs: number,
  logger: Logger,
  intervalMs = TRACE_SWEEP_INTERVAL_MS,
): RetentionSweeper => startRetentionSweeper(orm, SPANS, retentionMs, logger, intervalMs);
