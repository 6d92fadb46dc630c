import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';
import { TASK_STATUSES } from '../enums.ts';

/** A task moved from one status to another (agent → live pushes, other domains). */
export const TaskStatusChanged = defineEvent(
  'task.status_changed',
  1,
  z.object({
    taskId: uuid(),
    from: z.enum(TASK_STATUSES),
    to: z.enum(TASK_STATUSES),
    reason: z.string().max(500).optional(),
  }),
);

/** The agent domain's events that other domains read. */
export const AGENT_EVENTS = [TaskStatusChanged] as const;
