import { performance } from 'node:perf_hooks';

/** Milliseconds spent in each named stage, in the order they ran (e.g. `parseMs`, `embedMs`). */
export type StageLaps = Record<`${string}Ms`, number>;

/** A cheap stopwatch for a pipeline's stages: `lap(name)` closes the stage that ran since the last lap. */
export interface StageClock {
  lap(stage: string): void;
  laps(): StageLaps;
}

/** Starts a {@link StageClock} now. */
export function stageClock(): StageClock {
  let last = performance.now();
  const laps: StageLaps = {};
  return {
    lap(stage) {
      const now = performance.now();
      const key = `${stage}Ms` as const;
      laps[key] = Math.round(((laps[key] ?? 0) + now - last) * 10) / 10;
      last = now;
    },
    laps: () => ({ ...laps }),
  };
}
