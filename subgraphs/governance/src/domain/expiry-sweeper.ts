import type { MikroORM } from '@mikro-orm/postgresql';
import type { Actor } from '#events/catalogue.ts';
import type { Logger } from '#kernel/logger.ts';
import { expireApprovals } from './approval-expiry.ts';

/** Runs {@link expireApprovals} every `intervalMs` until stopped. */
export function startExpirySweeper(options: {
  orm: MikroORM;
  actorFor: (tenantId: string) => Promise<Actor>;
  intervalMs: number;
  logger: Logger;
}): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(() => expireApprovals(options.orm, options.actorFor))
      .then((n) => n > 0 && options.logger.info('approval requests expired', { count: n }))
      .catch((error) => options.logger.warn('approval expiry sweep failed', { error: String(error) }));
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
