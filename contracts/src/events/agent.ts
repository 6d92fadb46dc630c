import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';
import { RISK_LEVELS, STEP_STATUSES, TASK_STATUSES } from '../enums.ts';

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

/** A step of a task finished, one way or another (agent → live pushes). */
export const TaskStepCompleted = defineEvent(
  'task.step_completed',
  1,
  z.object({
    taskId: uuid(),
    stepId: uuid(),
    ordinal: z.number().int().min(0),
    tool: z.string().min(1).max(100),
    status: z.enum(STEP_STATUSES),
  }),
);

/** A principal named in an event: id and display name. */
const Principal = z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(300) });

/**
 * A step's tool call needs a human's approval (agent → governance, which opens the request). The
 * arguments travel in full with their digest; governance recomputes the digest before it stores them.
 */
export const ApprovalNeeded = defineEvent(
  'approval.needed',
  1,
  z.object({
    taskId: uuid(),
    stepId: uuid(),
    tool: z.string().min(1).max(100),
    arguments: z.record(z.string(), z.unknown()),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    riskLevel: z.enum(RISK_LEVELS),
    policyVersion: z.number().int().min(0),
    approvers: z.number().int().min(1).max(5),
    /** The task owner: the agent acts for them, so they may never approve it. */
    requestedBy: Principal,
    reason: z.string().min(1).max(2000),
  }),
);

/** The agent domain's events that other domains read. */
export const AGENT_EVENTS = [TaskStatusChanged, TaskStepCompleted, ApprovalNeeded] as const;
