import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Redis } from 'ioredis';
import {
  assertChannel,
  channelOf,
  DEFAULT_REPLAY_WINDOW_MS,
  type LivePubSub,
  type LiveSubscription,
  MAX_REPLAY_MESSAGES,
  type Replayable,
  type ReplayOptions,
  type ResumeMark,
  stamp,
} from './live-pubsub.ts';
import { createMessageQueue } from './message-queue.ts';
import type { LiveMessage, LiveTopic } from './topics.ts';

/** Channel prefix of live messages; tests pass their own to stay apart on a shared Redis. */
export const DEFAULT_LIVE_CHANNEL_PREFIX = 'widgetdc:live';

/** Options of {@link createRedisPubSub}. */
export interface RedisPubSubOptions extends ReplayOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  prefix?: string;
}

/**
 * Live pub/sub over Redis with graphql-redis-subscriptions, so every gateway replica sees every
 * tenant's events: the package holds one SUBSCRIBE per channel for all of a process's subscribers and
 * dispatches each message to them. Two ioredis connections (a subscribing one cannot publish), both
 * ready before use. Publishing goes through the package's publisher connection in one MULTI that also
 * appends the message to the channel's replay list (`<channel>:replay`, trimmed and expiring with the
 * window), so a published message is always replayable, and PUBLISH's receiver count is kept.
 */
export async function createRedisPubSub(options: RedisPubSubOptions): Promise<LivePubSub> {
  const prefix = options.prefix ?? DEFAULT_LIVE_CHANNEL_PREFIX;
  const windowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
  let stopped = false;
  // Reconnect with back-off while running; never once stopped (a pending retry would keep the process up).
  const retryStrategy = (attempt: number) => (stopped ? null : Math.min(attempt * 200, 2_000));
  const connection = (name: string) =>
    new Redis(options.url, { lazyConnect: true, connectionName: name, retryStrategy });
  const publisher = connection('widgetdc-live-pub');
  const subscriber = connection('widgetdc-live-sub');
  // Connection errors surface through connect() and failed commands; ioredis reconnects on its own.
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  // Wait for both attempts to settle, so neither is left connecting after a failure.
  const attempts = await Promise.allSettled([publisher.connect(), subscriber.connect()]);
  const failed = attempts.find((a): a is PromiseRejectedResult => a.status === 'rejected');
  if (failed) {
    stopped = true;
    publisher.disconnect();
    subscriber.disconnect();
    const reason = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
    throw new Error(`live pub/sub: cannot connect to Redis at ${redact(options.url)}: ${reason}`);
  }
  const pubsub = new RedisPubSub({
    publisher,
    subscriber,
    // Frozen: every subscriber of this process reads the same parsed object, and none may change it.
    deserializer: (raw) => Object.freeze(JSON.parse(raw.toString())),
  });
  const replayKey = (channel: string) => `${channel}:replay`;
  const markKey = (key: string) => `${prefix}:resume:${key}`;
  const open = new Set<{ end(): void }>();
  let closed = false;
  return {
    kind: 'redis',
    async publish(tenantId, topic, payload) {
      assertChannel(tenantId, topic);
      const channel = channelOf(prefix, tenantId, topic);
      const message = JSON.stringify(stamp(payload));
      const replay = replayKey(channel);
      const entry = `{"t":${Date.now()},"m":${message}}`;
      const results = await pubsub
        .getPublisher()
        .multi()
        .rpush(replay, entry)
        .ltrim(replay, -MAX_REPLAY_MESSAGES, -1)
        .pexpire(replay, windowMs)
        .publish(channel, message)
        .exec();
      const failure = results?.find(([error]) => error)?.[0];
      if (!results || failure)
        throw failure ?? new Error('live pub/sub: the publish transaction was discarded');
      return results[3]?.[1] as number;
    },
    subscribe<T extends LiveTopic>(tenantId: string, topic: T): LiveSubscription<T> {
      assertChannel(tenantId, topic);
      if (closed) throw new Error('live pub/sub is closed');
      const channel = channelOf(prefix, tenantId, topic);
      let id: Promise<number> | undefined;
      const queue = createMessageQueue<LiveMessage<T>>(() => {
        open.delete(queue);
        if (!closed) id?.then((subId) => pubsub.unsubscribe(subId)).catch(() => {});
      });
      open.add(queue);
      id = pubsub.subscribe<LiveMessage<T>>(channel, (message) => queue.push(message));
      // A failed SUBSCRIBE ends the subscription instead of leaving a silent one.
      const ready = id.then(
        () => undefined,
        (error: unknown) => {
          queue.end();
          throw error;
        },
      );
      ready.catch(() => {});
      return Object.assign(queue, { ready });
    },
    async recent<T extends LiveTopic>(tenantId: string, topic: T, sinceMs: number) {
      assertChannel(tenantId, topic);
      const entries = await publisher.lrange(replayKey(channelOf(prefix, tenantId, topic)), 0, -1);
      const floor = Math.max(sinceMs, Date.now() - windowMs);
      return entries
        .map((raw) => JSON.parse(raw) as Replayable)
        .filter((e) => e.t >= floor)
        .map((e) => e.m as LiveMessage<T>);
    },
    async remember(key, mark) {
      await publisher.set(markKey(key), JSON.stringify(mark), 'PX', windowMs);
    },
    async recall(key) {
      const raw = await publisher.get(markKey(key));
      return raw ? (JSON.parse(raw) as ResumeMark) : undefined;
    },
    async close() {
      closed = true;
      stopped = true;
      for (const queue of [...open]) queue.end();
      await pubsub.close().catch(() => {});
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}
