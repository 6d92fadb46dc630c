import { TaskStatusChanged, TaskStepCompleted } from '#contracts/events/agent.ts';
import { ApprovalDecided, ApprovalRequested, KillSwitchChanged } from '#contracts/events/governance.ts';
import { DocumentStatusChanged } from '#contracts/events/knowledge.ts';
import type { PayloadOf } from '#events/catalogue.ts';

/** The domain events the gateway's subscriptions follow; each one's type is its live topic. */
export const LIVE_EVENTS = [
  TaskStatusChanged,
  TaskStepCompleted,
  KillSwitchChanged,
  ApprovalRequested,
  ApprovalDecided,
  DocumentStatusChanged,
] as const;

/**
 * The channel of platform-wide pushes (the nil UUID, which no tenant has): changes of the
 * platform-wide kill switch, which every tenant's subscribers receive.
 */
export const PLATFORM_CHANNEL = '00000000-0000-0000-0000-000000000000';

/** The definition of one live event. */
export type LiveEvent = (typeof LIVE_EVENTS)[number];

/** The live topics, named after the domain events that feed them. */
export const LIVE_TOPICS = LIVE_EVENTS.map((e) => e.type) as readonly LiveTopic[];

/** One live topic. */
export type LiveTopic = LiveEvent['type'];

/**
 * What topic `T` carries: the domain event's payload (derived from its schema); `at` defaults to the
 * time of publishing, `eventId` (the domain event's id) to a new UUID.
 */
export type LivePayload<T extends LiveTopic> = PayloadOf<Extract<LiveEvent, { type: T }>> & {
  at?: string;
  eventId?: string;
};

/** What a subscriber receives on topic `T`: the payload with its time and event id stamped. */
export type LiveMessage<T extends LiveTopic> = LivePayload<T> & { at: string; eventId: string };

/** Whether `value` is a live topic. */
export function isLiveTopic(value: string): value is LiveTopic {
  return (LIVE_TOPICS as readonly string[]).includes(value);
}
