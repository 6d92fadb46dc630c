import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';
import { APPROVAL_DECISIONS, RISK_LEVELS } from '../enums.ts';

const digest = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A human's approval was requested for a task's step (governance → agent, live pushes). A request
 * bound to a call (opened from `approval.needed`) also names the step, tool, digest and expiry.
 */
export const ApprovalRequested = defineEvent(
  'approval.requested',
  1,
  z.object({
    approvalId: uuid(),
    taskId: uuid(),
    riskLevel: z.enum(RISK_LEVELS),
    stepId: uuid().optional(),
    tool: z.string().min(1).max(100).optional(),
    digest: digest.optional(),
    expiresAt: z.iso.datetime().optional(),
  }),
);

/**
 * An approval request was decided (governance → agent, live pushes). For a request bound to a call,
 * the step, digest and policy version it was approved for, its expiry and the distinct approvers.
 */
export const ApprovalDecided = defineEvent(
  'approval.decided',
  1,
  z.object({
    approvalId: uuid(),
    taskId: uuid(),
    decision: z.enum(APPROVAL_DECISIONS),
    decidedBy: z.string().min(1).max(200),
    stepId: uuid().optional(),
    digest: digest.optional(),
    policyVersion: z.number().int().min(0).optional(),
    expiresAt: z.iso.datetime().optional(),
    approvers: z
      .array(z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(300) }))
      .optional(),
  }),
);

/** An approval request passed its expiry undecided: its step fails closed (governance → agent). */
export const ApprovalExpired = defineEvent(
  'approval.expired',
  1,
  z.object({ approvalId: uuid(), taskId: uuid(), stepId: uuid().optional() }),
);

/** Which kill switch changed: the tenant's own, or the platform-wide one (every tenant's loops). */
export const KILL_SWITCH_SCOPES = ['TENANT', 'PLATFORM'] as const;

/**
 * A kill switch was engaged or released (governance → agent runners, live pushes). Scope TENANT
 * (the default, absent in older events): the event's tenant's switch. Scope PLATFORM: the
 * platform-wide switch, published in the operator tenant that changed it; it stops every tenant.
 */
export const KillSwitchChanged = defineEvent(
  'killswitch.changed',
  1,
  z.object({
    engaged: z.boolean(),
    reason: z.string().max(1000).nullable(),
    scope: z.enum(KILL_SWITCH_SCOPES).optional(),
    /** Display name of who engaged it (null when released). */
    engagedBy: z.string().max(300).nullable().optional(),
  }),
);

/** The governance domain's events that other domains read. */
export const GOVERNANCE_EVENTS = [
  ApprovalRequested,
  ApprovalDecided,
  ApprovalExpired,
  KillSwitchChanged,
] as const;
