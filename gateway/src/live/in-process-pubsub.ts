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
import { createMessageQueue, type MessageQueue } from './message-queue.ts';
import type { LiveMessage, LiveTopic } from './topics.ts';

/** Live pub/sub within one process: the embedded default (one gateway, no Redis). */
export function createInProcessPubSub(options: ReplayOptions = {}): LivePubSub {
  const windowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
  const channels = new Map<string, Set<MessageQueue<unknown>>>();
  const replay = new Map<string, Replayable[]>();
  const marks = new Map<string, { mark: ResumeMark; until: number }>();
  let closed = false;
  const prune = (now: number) => {
    for (const [channel, entries] of replay) {
      const keep = entries.filter((e) => e.t >= now - windowMs).slice(-MAX_REPLAY_MESSAGES);
      if (keep.length === 0) replay.delete(channel);
      else replay.set(channel, keep);
    }
    for (const [key, entry] of marks) if (entry.until < now) marks.delete(key);
  };
  return {
    kind: 'in-process',
    async publish(tenantId, topic, payload) {
      assertChannel(tenantId, topic);
      const channel = channelOf('', tenantId, topic);
      // Frozen: every subscriber reads the same object, and none may change it.
      const message = Object.freeze(stamp(payload));
      const now = Date.now();
      const entries = replay.get(channel) ?? [];
      entries.push({ t: now, m: message });
      replay.set(channel, entries);
      if (entries.length > MAX_REPLAY_MESSAGES) prune(now);
      const queues = channels.get(channel);
      if (!queues) return 0;
      for (const queue of queues) queue.push(message);
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
    async recent<T extends LiveTopic>(tenantId: string, topic: T, sinceMs: number) {
      assertChannel(tenantId, topic);
      prune(Date.now());
      const entries = replay.get(channelOf('', tenantId, topic)) ?? [];
      return entries.filter((e) => e.t >= sinceMs).map((e) => e.m as LiveMessage<T>);
    },
    async remember(key, mark) {
      marks.set(key, { mark, until: Date.now() + windowMs });
    },
    async recall(key) {
      const entry = marks.get(key);
      return entry && entry.until >= Date.now() ? entry.mark : undefined;
    },
    async close() {
      closed = true;
      for (const set of [...channels.values()]) for (const queue of [...set]) queue.end();
      channels.clear();
      replay.clear();
      marks.clear();
    },
  };
}
