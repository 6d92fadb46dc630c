import { type AnyEnvelope, type ConsumerDefinition, defineConsumer } from '#events/consumer/consumer.ts';
import { RetryableError } from '#events/errors.ts';
import type { LivePubSub } from './live-pubsub.ts';
import { LIVE_EVENTS, type LiveEvent, type LivePayload, type LiveTopic, PLATFORM_CHANNEL } from './topics.ts';

/** The consumer group that turns domain events into live pushes. */
export const LIVE_FANOUT_GROUP = 'live-fanout';
/** Events older than this when consumed are not pushed (a new group starts at the stream's beginning). */
export const DEFAULT_LIVE_MAX_AGE_MS = 5 * 60_000;

/** Options of {@link liveFanoutConsumer}. */
export interface LiveFanoutOptions {
  live: LivePubSub;
  /** Consumer group name; {@link LIVE_FANOUT_GROUP} unless a test needs its own. */
  group?: string;
  /** Skip events that occurred longer ago than this; {@link DEFAULT_LIVE_MAX_AGE_MS} by default. */
  maxAgeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** Maps an event envelope to the live payload subscribers of its topic receive. */
export function livePayloadOf(event: AnyEnvelope<LiveEvent>): LivePayload<LiveTopic> {
  // The domain event's id travels along: the same on every replica, for de-duplicating and resuming.
  const stamped = { at: event.occurredAt, eventId: event.id };
  switch (event.type) {
    case 'task.status_changed': {
      const { taskId, from, to, reason } = event.payload;
      return { taskId, from, to, ...(reason === undefined ? {} : { reason }), ...stamped };
    }
    case 'task.step_completed': {
      const { taskId, stepId, ordinal, tool, status } = event.payload;
      return { taskId, stepId, ordinal, tool, status, ...stamped };
    }
    case 'killswitch.changed': {
      const { engaged, reason, scope, engagedBy } = event.payload;
      return { engaged, reason, scope: scope ?? 'TENANT', engagedBy: engagedBy ?? null, ...stamped };
    }
    case 'approval.requested': {
      const { approvalId, taskId, riskLevel } = event.payload;
      return { approvalId, taskId, riskLevel, ...stamped };
    }
    case 'approval.decided': {
      const { approvalId, taskId, decision, decidedBy } = event.payload;
      return { approvalId, taskId, decision, decidedBy, ...stamped };
    }
    case 'document.status_changed': {
      const { documentId, from, to, error } = event.payload;
      return { documentId, from, to, ...(error === undefined ? {} : { error }), ...stamped };
    }
    default:
      throw new Error(`not a live event: ${(event as { type: string }).type}`);
  }
}

/**
 * The channel (tenant) an event is pushed on: its tenant's, or for a change of the platform-wide
 * kill switch the platform channel every tenant's `killSwitchChanged` subscribers also follow.
 */
export function liveChannelOf(event: AnyEnvelope<LiveEvent>): string {
  return event.type === 'killswitch.changed' && event.payload.scope === 'PLATFORM'
    ? PLATFORM_CHANNEL
    : event.tenantId;
}

/**
 * `live-fanout`: publishes each live-topic event to the tenant's live channel, so graphql-ws
 * subscribers see it. Best-effort: a push reaches whoever is subscribed at that moment, nothing is
 * stored for later, and stale events are skipped. Run it where the pub/sub reaches the subscribers:
 * in the gateway (in-process pub/sub) or anywhere with Redis pub/sub, where replicas may share the
 * group because every replica receives every Redis message.
 */
export function liveFanoutConsumer(options: LiveFanoutOptions): ConsumerDefinition<LiveEvent> {
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_LIVE_MAX_AGE_MS;
  const now = options.now ?? Date.now;
  return defineConsumer<LiveEvent>({
    group: options.group ?? LIVE_FANOUT_GROUP,
    events: LIVE_EVENTS,
    // A push changes no tenant data: auditing it would only double every event's records.
    audited: false,
    // A push is quick: under load, many events share one transaction and one acknowledgement.
    maxBatch: 64,
    async handle(event, ctx) {
      if (now() - Date.parse(event.occurredAt) > maxAgeMs) {
        ctx.logger.debug('stale event not pushed', { id: event.id, type: event.type });
        return;
      }
      try {
        await options.live.publish(liveChannelOf(event), event.type, livePayloadOf(event));
      } catch (error) {
        // Retried with backoff, then dead-lettered: a pub/sub outage is visible, not silent.
        throw new RetryableError(`live push of ${event.type} ${event.id} failed: ${String(error)}`, {
          cause: error,
        });
      }
    },
  });
}
