import type { MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '#kernel/logger.ts';

/** How often generations past the retention are deleted. */
export const GENERATION_SWEEP_INTERVAL_MS = 10 * 60_000;

/** A running sweeper; `stop()` waits for a sweep in progress. */
export interface GenerationSweeper {
  stop(): Promise<void>;
}

/** Deletes every tenant's generations older than `retentionMs` (observability.sweep_generations); returns how many. */
export async function sweepGenerations(orm: MikroORM, retentionMs: number): Promise<number> {
  const before = new Date(Date.now() - retentionMs);
  const [row] = await orm.em
    .fork()
    .execute<{ n: string }[]>('select observability.sweep_generations(?) as n', [before.toISOString()]);
  return Number(row?.n ?? 0);
}

/** Sweeps now and every {@link GENERATION_SWEEP_INTERVAL_MS} (GENERATION_RETENTION; ADR 0037). */
export function startGenerationSweeper(
  orm: MikroORM,
  retentionMs: number,
  logger: Logger,
  intervalMs = GENERATION_SWEEP_INTERVAL_MS,
): GenerationSweeper {
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    round = sweepGenerations(orm, retentionMs).then(
      (n) => {
        if (n > 0) logger.info(`deleted ${n} generations older than the generation retention`);
      },
      (error: unknown) => logger.error('generation sweep failed', { message: String(error) }),
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
