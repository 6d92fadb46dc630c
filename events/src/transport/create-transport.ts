import { ConfigError } from '#kernel/errors.ts';
import type { EventsConfig } from '../config.ts';
import { PostgresStreamTransport } from './postgres-transport.ts';
import { RedisStreamTransport } from './redis-transport.ts';
import type { StreamTransport } from './transport.ts';

/**
 * The configured transport: Redis Streams when `REDIS_URL` is set, otherwise the embedded
 * Postgres-backed transport on `DATABASE_URL` (or `databaseUrl`, e.g. the embedded database's).
 */
export function createTransport(events: EventsConfig, databaseUrl: string | undefined): StreamTransport {
  if (events.redisUrl) {
    return new RedisStreamTransport({
      url: events.redisUrl,
      prefix: events.streamPrefix,
      maxLen: events.streamMaxLen,
    });
  }
  if (!databaseUrl) {
    throw new ConfigError([
      'the event bus needs REDIS_URL or DATABASE_URL (the embedded transport runs on PostgreSQL)',
    ]);
  }
  return new PostgresStreamTransport({
    url: databaseUrl,
    prefix: events.streamPrefix,
    maxLen: events.streamMaxLen,
  });
}
