import type { ReadinessReport } from '#kernel/http/server.ts';

/** How long one subgraph may take to answer its readiness probe. */
export const READY_PROBE_TIMEOUT_MS = 2_000;

/** The gateway is ready when every subgraph's /ready (which checks its database) answers 200. */
export async function probeSubgraphs(urls: Record<string, string>): Promise<ReadinessReport> {
  const entries = await Promise.all(
    Object.entries(urls).map(async ([name, url]) => {
      const readyUrl = new URL('/ready', url);
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(READY_PROBE_TIMEOUT_MS) });
        return [name, res.ok ? 'ok' : `${readyUrl} answered ${res.status}`] as const;
      } catch (error) {
        return [
          name,
          `${readyUrl} unreachable: ${error instanceof Error ? error.message : String(error)}`,
        ] as const;
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { ready: entries.every(([, status]) => status === 'ok'), checks };
}
