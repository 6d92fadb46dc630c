import { type Env, EnvReader } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';
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

/** Reads and validates the event bus's settings (`REDIS_URL`, `EVENTS_*`); every problem is reported together. */
export function loadEventsConfig(env: Env = process.env): EventsConfig {
  const problems: string[] = [];
  const config = readEvents(new EnvReader(env, problems), problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readEvents(read: EnvReader, problems: string[]): EventsConfig {
  const redisUrl = read.string('REDIS_URL');
  let redis: string | undefined;
  if (redisUrl !== undefined) {
    try {
      if (['redis:', 'rediss:'].includes(new URL(redisUrl).protocol)) redis = redisUrl;
    } catch {
      // reported below
    }
    if (!redis) problems.push('REDIS_URL must be a redis:// or rediss:// URL');
  }
  const streamPrefix = read.string('EVENTS_STREAM_PREFIX') ?? DEFAULT_STREAM_PREFIX;
  if (!/^[A-Za-z0-9:_.-]{1,100}$/.test(streamPrefix)) {
    problems.push('EVENTS_STREAM_PREFIX must be 1-100 letters, digits, ":", "_", "." or "-"');
  }
  return {
    redisUrl: redis,
    streamPrefix,
    streamMaxLen: read.int('EVENTS_STREAM_MAXLEN', DEFAULT_STREAM_MAXLEN, 1000, 1_000_000_000),
    claimIdleMs: read.int('EVENTS_CLAIM_IDLE_MS', DEFAULT_CLAIM_IDLE_MS, 100, 86_400_000),
    retryBackoffMs: read.int('EVENTS_RETRY_BACKOFF_MS', DEFAULT_RETRY_BACKOFF_MS, 0, 600_000),
    relayPollMs: read.int('EVENTS_RELAY_POLL_MS', DEFAULT_RELAY_POLL_MS, 10, 600_000),
    relayBatch: read.int('EVENTS_RELAY_BATCH', DEFAULT_RELAY_BATCH, 1, 10_000),
  };
}
