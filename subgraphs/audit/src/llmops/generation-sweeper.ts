import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '#kernel/logger.ts';
import {
  type RetentionSweeper,
  SWEEP_INTERVAL_MS,
  startRetentionSweeper,
  sweepOlderThan,
} from '../observability/retention-sweeper.ts';

/** How often generations past the retention are deleted. */
export const GENERATION_SWEEP_INTERVAL_MS = SWEEP_INTERVAL_MS;

const GENERATIONS = {
  fn: 'observability.sweep_generations',
  rows: 'generations',
  retention: 'generation retention',
} as const;

/** Deletes every tenant's generations older than `retentionMs` (observability.sweep_generations); returns how many. */
export const sweepGenerations = (orm: MikroORM, retentionMs: number): Promise<number> =>
  sweepOlderThan(orm, GENERATIONS, retentionMs);

/** Sweeps now and every {@link GENERATION_SWEEP_INTERVAL_MS} (GENERATION_RETENTION; ADR 0037). */
export const startGenerationSweeper = (
  orm: MikroORM,
  retentionMs: number,
  logger: Logger,
  intervalMs = GENERATION_SWEEP_INTERVAL_MS,
): RetentionSweeper => startRetentionSweeper(orm, GENERATIONS, retentionMs, logger, intervalMs);
