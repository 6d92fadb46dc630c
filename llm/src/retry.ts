// Retrying a remote model call: which answers are worth another attempt and how long to wait
// before it. Shared by the chat client and the knowledge subgraph's embeddings client.
import { setTimeout as sleep } from 'node:timers/promises';

/** First backoff between attempts; it doubles with each attempt. */
export const DEFAULT_BACKOFF_MS = 500;
/** Longest wait honoured from a Retry-After header (a longer one is cut to this). */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/** Statuses worth another attempt: timeout, conflict, too early, too many requests, server errors. */
const RETRYABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504]);

/** Whether an HTTP status is worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE.has(status);
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, cap: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(ms) ? Math.min(cap, Math.max(0, ms)) : undefined;
}

/** How long to wait after failed attempt `attempt` (0-based): the server's Retry-After, else doubling backoff. */
export function retryDelayMs(
  attempt: number,
  options: { backoffMs: number; maxRetryAfterMs: number },
  retryAfter: string | null = null,
): number {
  return retryAfterMs(retryAfter, options.maxRetryAfterMs) ?? options.backoffMs * 2 ** attempt;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export async function waitUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, signal ? { signal } : undefined);
}
