import { randomUUID } from 'node:crypto';
import { isUuid } from '#kernel/ids.ts';
import { isLiveTopic, type LiveMessage, type LivePayload, type LiveTopic } from './topics.ts';

/** An open subscription: an async iterator of messages; `return()` unsubscribes. */
export interface LiveSubscription<T extends LiveTopic> extends AsyncIterableIterator<LiveMessage<T>> {
  /** Settles once messages published from now on will arrive (Redis: the SUBSCRIBE was acknowledged). */
  readonly ready: Promise<void>;
  return(): Promise<IteratorResult<LiveMessage<T>>>;
}

/**
 * Tenant-scoped live fan-out for subscriptions. Channels are derived from the tenant id the caller
 * passes, which must come from a verified token; nothing a client sends names a channel.
 */
export interface LivePubSub {
  /** Which implementation this is, for logs. */
  readonly kind: 'in-process' | 'redis';
  /**
   * Delivers `payload` to the tenant's subscribers of `topic`. Resolves with the number of receivers
   * (in-process: subscriptions; Redis: subscribed connections across all processes).
   */
  publish<T extends LiveTopic>(tenantId: string, topic: T, payload: LivePayload<T>): Promise<number>;
  /** Follows the tenant's `topic` until the returned iterator's `return()` is called. */
  subscribe<T extends LiveTopic>(tenantId: string, topic: T): LiveSubscription<T>;
  /**
   * The tenant's messages of `topic` published at or after `sinceMs` (epoch ms), oldest first, as far
   * back as the replay window reaches: what a reconnecting subscriber missed.
   */
  recent<T extends LiveTopic>(tenantId: string, topic: T, sinceMs: number): Promise<LiveMessage<T>[]>;
  /** Remembers, for the replay window, where a subscription stopped when its connection closed. */
  remember(key: string, mark: ResumeMark): Promise<void>;
  /** The mark remembered under `key` within the replay window, if any. */
  recall(key: string): Promise<ResumeMark | undefined>;
  /** Ends every subscription and releases connections. */
  close(): Promise<void>;
}

/** How long published messages stay replayable and resume marks are kept (ADR 0021). */
export const DEFAULT_REPLAY_WINDOW_MS = 120_000;
/** Most messages one channel keeps for replay. */
export const MAX_REPLAY_MESSAGES = 1_000;

/** Where a subscription stopped: when its connection closed and the events it had delivered last. */
export interface ResumeMark {
  closedAt: number;
  delivered: string[];
}

/** Options every implementation takes. */
export interface ReplayOptions {
  /** {@link DEFAULT_REPLAY_WINDOW_MS} unless given. */
  replayWindowMs?: number;
}

/** One buffered message and when it was published. */
export interface Replayable {
  t: number;
  m: unknown;
}

/** Checks the arguments every implementation receives; a bad tenant id or topic is a programming error. */
export function assertChannel(tenantId: string, topic: string): void {
  if (!isUuid(tenantId)) throw new TypeError(`live pub/sub: tenant id must be a UUID (got "${tenantId}")`);
  if (!isLiveTopic(topic)) throw new TypeError(`live pub/sub: unknown topic "${topic}"`);
}

/** The channel of one tenant's topic under `prefix`, e.g. `widgetdc:live:<tenant>:task.status_changed`. */
export function channelOf(prefix: string, tenantId: string, topic: LiveTopic): string {
  return `${prefix}:${tenantId.toLowerCase()}:${topic}`;
}

/** The message as delivered: the payload with `at` and `eventId` stamped when the publisher left them out. */
export function stamp<T extends LiveTopic>(payload: LivePayload<T>): LiveMessage<T> {
  return {
    ...payload,
    at: payload.at ?? new Date().toISOString(),
    eventId: payload.eventId ?? randomUUID(),
  } as LiveMessage<T>;
}
