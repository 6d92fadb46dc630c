import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '#kernel/logger.ts';

/** How often stored spans past the retention are deleted. */
export const TRACE_SWEEP_INTERVAL_MS = 10 * 60_000;

/** A running sweeper; `stop()` waits for a sweep in progress. */
export interface TraceSweeper {
  stop(): Promise<void>;
}

/** Deletes every tenant's spans older than `retentionMs` (observability.sweep_spans); returns how many. */
export async function sweepTraces(orm: MikroORM, retentionMs: number): Promise<number> {
  const before = new Date(Date.now() - retentionMs);
  const [row] = await orm.em
    .fork()
    .execute<{ n: string }[]>('select observability.sweep_spans(?) as n', [before.toISOString()]);
  return Number(row?.n ?? 0);
}

/** Sweeps now and every {@link TRACE_SWEEP_INTERVAL_MS} (TRACE_RETENTION; ADR 0024). */
export function startTraceSweeper(
  orm: MikroORM,
  retentionMs: number,
  logger: Logger,
  intervalMs = TRACE_SWEEP_INTERVAL_MS,
): TraceSweeper {
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    round = sweepTraces(orm, retentionMs).then(
      (n) => {
        if (n > 0) logger.info(`deleted ${n} spans older than the trace retention`);
      },
      (error: unknown) => logger.error('trace sweep failed', { message: String(error) }),
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
