import { z } from 'zod';
import { type Env, int, parseEnv, text, url } from '#kernel/config.ts';
import {
  DEFAULT_CLAIM_IDLE_MS,
  DEFAULT_RELAY_BATCH,
  DEFAULT_RELAY_POLL_MS,
  DEFAULT_RETRY_BACKOFF_MS,
  DEFAULT_STREAM_MAXLEN,
  DEFAULT_STREAM_PREFIX,
} from './defaults.ts';

/** Event-bus settings: the transport, stream trimming, retries and relays (workers' identity: AUTH_*). */
export interface EventsConfig {
  /** Redis Streams (`REDIS_URL`); absent: the embedded Postgres-backed transport. */
  redisUrl: string | undefined;
  /** Key prefix of streams and dead-letter streams (`EVENTS_STREAM_PREFIX`). */
  streamPrefix: string;
  /** Approximate MAXLEN of each stream (`EVENTS_STREAM_MAXLEN`). */
  streamMaxLen: number;
  /** Idle time before a pending entry is reclaimed from its consumer (`EVENTS_CLAIM_IDLE_MS`). */
  claimIdleMs: number;
  /** First backoff between attempts, doubling (`EVENTS_RETRY_BACKOFF_MS`). */
  retryBackoffMs: number;
  /** Relay polling fallback when no NOTIFY arrives (`EVENTS_RELAY_POLL_MS`). */
  relayPollMs: number;
  /** Outbox rows per relay transaction (`EVENTS_RELAY_BATCH`). */
  relayBatch: number;
}

const schema = z
  .object({
    REDIS_URL: url(['redis:', 'rediss:'], 'a redis:// or rediss:// URL'),
    EVENTS_STREAM_PREFIX: text().refine(
      (prefix) => prefix === undefined || /^[A-Za-z0-9:_.-]{1,100}$/.test(prefix),
      {
        message: 'must be 1-100 letters, digits, ":", "_", "." or "-"',
      },
    ),
    EVENTS_STREAM_MAXLEN: int(DEFAULT_STREAM_MAXLEN, 1000, 1_000_000_000),
    EVENTS_CLAIM_IDLE_MS: int(DEFAULT_CLAIM_IDLE_MS, 100, 86_400_000),
    EVENTS_RETRY_BACKOFF_MS: int(DEFAULT_RETRY_BACKOFF_MS, 0, 600_000),
    EVENTS_RELAY_POLL_MS: int(DEFAULT_RELAY_POLL_MS, 10, 600_000),
    EVENTS_RELAY_BATCH: int(DEFAULT_RELAY_BATCH, 1, 10_000),
  })
  .transform(
    (env): EventsConfig => ({
      redisUrl: env.REDIS_URL,
      streamPrefix: env.EVENTS_STREAM_PREFIX ?? DEFAULT_STREAM_PREFIX,
      streamMaxLen: env.EVENTS_STREAM_MAXLEN,
      claimIdleMs: env.EVENTS_CLAIM_IDLE_MS,
      retryBackoffMs: env.EVENTS_RETRY_BACKOFF_MS,
      relayPollMs: env.EVENTS_RELAY_POLL_MS,
      relayBatch: env.EVENTS_RELAY_BATCH,
    }),
  );

/** Reads and validates the event bus's settings (`REDIS_URL`, `EVENTS_*`); every problem is reported together. */
export function loadEventsConfig(env: Env = process.env): EventsConfig {
  return parseEnv(schema, env);
}
