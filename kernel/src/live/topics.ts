/** The live topics the gateway's subscriptions follow, named after the domain events that feed them. */
export const LIVE_TOPICS = [
  'task.status_changed',
  'killswitch.changed',
  'approval.requested',
  'approval.decided',
] as const;

/** One live topic. */
export type LiveTopic = (typeof LIVE_TOPICS)[number];

/** What each topic carries (the domain event's payload); `at` defaults to the time of publishing. */
export interface LivePayloads {
  'task.status_changed': { taskId: string; from: string; to: string; at?: string };
  'killswitch.changed': { engaged: boolean; reason: string | null; at?: string };
  'approval.requested': {
    approvalId: string;
    taskId: string;
    riskLevel: 'SAFE' | 'MEDIUM' | 'HIGH';
    at?: string;
  };
  'approval.decided': {
    approvalId: string;
    taskId: string;
    decision: 'APPROVED' | 'REJECTED';
    at?: string;
  };
}

/** The payload published on topic `T`. */
export type LivePayload<T extends LiveTopic> = LivePayloads[T];

/** What a subscriber receives on topic `T`: the payload with its time stamped. */
export type LiveMessage<T extends LiveTopic> = LivePayloads[T] & { at: string };

/** Whether `value` is a live topic. */
export function isLiveTopic(value: string): value is LiveTopic {
  return (LIVE_TOPICS as readonly string[]).includes(value);
}
