import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';
import { APPROVAL_DECISIONS, RISK_LEVELS } from '../enums.ts';

/** A human's approval was requested for a task's step (governance → agent, live pushes). */
export const ApprovalRequested = defineEvent(
  'approval.requested',
  1,
  z.object({ approvalId: uuid(), taskId: uuid(), riskLevel: z.enum(RISK_LEVELS) }),
);

/** An approval request was decided (governance → agent, live pushes). */
export const ApprovalDecided = defineEvent(
  'approval.decided',
  1,
  z.object({
    approvalId: uuid(),
    taskId: uuid(),
    decision: z.enum(APPROVAL_DECISIONS),
    decidedBy: z.string().min(1).max(200),
  }),
);

/** A tenant's kill switch was engaged or released (governance → agent runners, live pushes). */
export const KillSwitchChanged = defineEvent(
  'killswitch.changed',
  1,
  z.object({ engaged: z.boolean(), reason: z.string().max(1000).nullable() }),
);

/** The governance domain's events that other domains read. */
export const GOVERNANCE_EVENTS = [ApprovalRequested, ApprovalDecided, KillSwitchChanged] as const;
