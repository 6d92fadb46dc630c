import type { MikroORM } from '@mikro-orm/postgresql';
import type { ReadinessReport } from '../http/server.ts';

/** How long /ready waits for the database before answering "not ready". */
export const READINESS_TIMEOUT_MS = 2_000;

/**
 * The subgraph's readiness: its database answers `select 1`. Concurrent probes share one query, and
 * an answer comes within `timeoutMs` whatever the database does: a database saturated by requests
 * (its pool queue full) makes the subgraph "not ready" (503) instead of leaving /ready hanging.
 */
export function databaseReadiness(
  orm: MikroORM,
  timeoutMs = READINESS_TIMEOUT_MS,
): () => Promise<ReadinessReport> {
  let pending: Promise<ReadinessReport> | undefined;
  const probe = async (): Promise<ReadinessReport> => {
    try {
      await orm.em.fork().execute('select 1');
      return { ready: true, checks: { database: 'ok' } };
    } catch (error) {
      return { ready: false, checks: { database: error instanceof Error ? error.message : String(error) } };
    }
  };
  return async () => {
    pending ??= probe().finally(() => {
      pending = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ReadinessReport>((resolve) => {
      timer = setTimeout(
        () => resolve({ ready: false, checks: { database: `no answer within ${timeoutMs} ms` } }),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([pending, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
