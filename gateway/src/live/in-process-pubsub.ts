import { assertChannel, channelOf, type LivePubSub, type LiveSubscription, stamp } from './live-pubsub.ts';
import { createMessageQueue, type MessageQueue } from './message-queue.ts';
import type { LiveMessage, LiveTopic } from './topics.ts';

/** Live pub/sub within one process: the embedded default (one gateway, no Redis). */
export function createInProcessPubSub(): LivePubSub {
  const channels = new Map<string, Set<MessageQueue<unknown>>>();
  let closed = false;
  return {
    kind: 'in-process',
    async publish(tenantId, topic, payload) {
      assertChannel(tenantId, topic);
      const queues = channels.get(channelOf('', tenantId, topic));
      if (!queues) return 0;
      const message = stamp(payload);
      for (const queue of queues) queue.push(structuredClone(message));
      return queues.size;
    },
    subscribe<T extends LiveTopic>(tenantId: string, topic: T): LiveSubscription<T> {
      assertChannel(tenantId, topic);
      if (closed) throw new Error('live pub/sub is closed');
      const channel = channelOf('', tenantId, topic);
      const queue = createMessageQueue<LiveMessage<T>>(() => {
        const set = channels.get(channel);
        set?.delete(queue as MessageQueue<unknown>);
        if (set?.size === 0) channels.delete(channel);
      });
      const set = channels.get(channel) ?? new Set<MessageQueue<unknown>>();
      channels.set(channel, set);
      set.add(queue as MessageQueue<unknown>);
      return Object.assign(queue, { ready: Promise.resolve() });
    },
    async close() {
      closed = true;
      for (const set of [...channels.values()]) for (const queue of [...set]) queue.end();
      channels.clear();
    },
  };
}
