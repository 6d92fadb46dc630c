import { Redis } from 'ioredis';
import { assertChannel, channelOf, type LivePubSub, type LiveSubscription, stamp } from './live-pubsub.ts';
import { createMessageQueue, type MessageQueue } from './message-queue.ts';
import type { LiveMessage, LiveTopic } from './topics.ts';

/** Channel prefix of live messages; tests pass their own to stay apart on a shared Redis. */
export const DEFAULT_LIVE_CHANNEL_PREFIX = 'widgetdc:live';

/** Options of {@link createRedisPubSub}. */
export interface RedisPubSubOptions {
  /** `redis://` or `rediss://` URL. */
  url: string;
  prefix?: string;
}

/**
 * Live pub/sub over Redis PUBLISH/SUBSCRIBE, so every gateway replica sees every tenant's events.
 * Two connections: a subscribing connection cannot publish. Resolves once both are ready.
 */
export async function createRedisPubSub(options: RedisPubSubOptions): Promise<LivePubSub> {
  const prefix = options.prefix ?? DEFAULT_LIVE_CHANNEL_PREFIX;
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
  const channels = new Map<string, { queues: Set<MessageQueue<unknown>>; subscribed: Promise<void> }>();
  subscriber.on('message', (channel: string, raw: string) => {
    const entry = channels.get(channel);
    if (!entry) return;
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    for (const queue of entry.queues) queue.push(structuredClone(message));
  });
  let closed = false;
  return {
    kind: 'redis',
    async publish(tenantId, topic, payload) {
      assertChannel(tenantId, topic);
      return publisher.publish(channelOf(prefix, tenantId, topic), JSON.stringify(stamp(payload)));
    },
    subscribe<T extends LiveTopic>(tenantId: string, topic: T): LiveSubscription<T> {
      assertChannel(tenantId, topic);
      if (closed) throw new Error('live pub/sub is closed');
      const channel = channelOf(prefix, tenantId, topic);
      let entry = channels.get(channel);
      if (!entry) {
        const subscribed = subscriber.subscribe(channel).then(() => undefined);
        entry = { queues: new Set(), subscribed };
        channels.set(channel, entry);
      }
      const own = entry;
      const queue = createMessageQueue<LiveMessage<T>>(() => {
        own.queues.delete(queue as MessageQueue<unknown>);
        if (own.queues.size > 0 || channels.get(channel) !== own) return;
        channels.delete(channel);
        if (!closed) subscriber.unsubscribe(channel).catch(() => {});
      });
      own.queues.add(queue as MessageQueue<unknown>);
      // A failed SUBSCRIBE ends the subscription instead of leaving a silent one.
      const ready = own.subscribed.catch((error: unknown) => {
        queue.end();
        throw error;
      });
      ready.catch(() => {});
      return Object.assign(queue, { ready });
    },
    async close() {
      closed = true;
      stopped = true;
      for (const entry of [...channels.values()]) for (const queue of [...entry.queues]) queue.end();
      channels.clear();
      await Promise.allSettled([subscriber.quit(), publisher.quit()]);
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
