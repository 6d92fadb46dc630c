import type { Logger } from '../logger.ts';
import { shutdownTelemetry } from '../telemetry/sdk.ts';

/** How long shutdown may take before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * Runs `close` once on SIGINT, SIGTERM, or when the parent process that forked this one goes away
 * (so a killed launcher never leaves orphans), then exits.
 */
export function onShutdown(close: () => Promise<void>, logger: Logger): void {
  let closing = false;
  const stop = (reason: string) => {
    if (closing) return;
    closing = true;
    logger.info(`shutting down (${reason})`);
    setTimeout(() => {
      logger.error(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    // Spans of the last requests are flushed after the service closed, before the process exits.
    close()
      .finally(shutdownTelemetry)
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error('shutdown failed', { message: String(error) });
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  if (process.send) process.once('disconnect', () => stop('parent process exited'));
}

/** Tells a launcher that forked this process that it is ready, and where. */
export function announceReady(message: { name: string; url: string }): void {
  process.send?.({ type: 'ready', ...message });
}
