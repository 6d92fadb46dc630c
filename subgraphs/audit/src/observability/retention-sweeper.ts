import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '#kernel/logger.ts';

/** How often rows past their retention are deleted. */
export const SWEEP_INTERVAL_MS = 10 * 60_000;

/** A running sweeper; `stop()` waits for a sweep in progress. */
export interface RetentionSweeper {
  stop(): Promise<void>;
}

/** What one sweeper deletes: rows of every tenant older than the retention, through a SECURITY DEFINER function. */
export interface SweepTarget {
  /** `observability.sweep_spans`, `observability.sweep_generations`: takes a time, returns how many it deleted. */
  readonly fn: string;
  /** What the log calls the rows and the setting: `spans`, `trace retention`. */
  readonly rows: string;
  readonly retention: string;
}

/** Deletes every tenant's rows older than `retentionMs` through `target.fn`; returns how many. */
export async function sweepOlderThan(
  orm: MikroORM,
  target: SweepTarget,
  retentionMs: number,
): Promise<number> {
  const before = new Date(Date.now() - retentionMs);
  const [row] = await orm.em
    .fork()
    .execute<{ n: string }[]>(`select ${target.fn}(?) as n`, [before.toISOString()]);
  return Number(row?.n ?? 0);
}

/** Sweeps now and every `intervalMs`, one sweep at a time. */
export function startRetentionSweeper(
  orm: MikroORM,
  target: SweepTarget,
  retentionMs: number,
  logger: Logger,
  intervalMs = SWEEP_INTERVAL_MS,
): RetentionSweeper {
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    round = sweepOlderThan(orm, target, retentionMs).then(
      (n) => {
        if (n > 0) logger.info(`deleted ${n} ${target.rows} older than the ${target.retention}`);
      },
      (error: unknown) => logger.error(`${target.rows} sweep failed`, { message: String(error) }),
    );
    void round.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs).unref();
    });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
