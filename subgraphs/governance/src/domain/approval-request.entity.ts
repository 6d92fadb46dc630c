import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';
import { APPROVAL_STATUSES, RISK_LEVELS } from '#contracts/enums.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { ConflictError, ForbiddenError, ValidationError } from '#kernel/errors.ts';
import { ApprovalRequestRepository } from './approval-request.repository.ts';

export { APPROVAL_STATUSES, RISK_LEVELS };

const ApprovalRequestSchema = defineEntity({
  name: 'ApprovalRequest',
  schema: 'governance',
  tableName: 'approval_requests',
  repository: () => ApprovalRequestRepository,
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    taskId: p.uuid(),
    status: p.enum(APPROVAL_STATUSES),
    riskLevel: p.enum(RISK_LEVELS),
    reason: p.text(),
    requestedBy: p.uuid(),
    requestedByName: p.text(),
    requestedAt: p.datetime(3),
    decidedBy: p.uuid().nullable(),
    decidedByName: p.text().nullable(),
    decidedAt: p.datetime(3).nullable(),
    decisionComment: p.text().nullable(),
    stepId: p.uuid().nullable(),
    tool: p.text().nullable(),
    arguments: p.json<Record<string, unknown>>().nullable(),
    digest: p.text().nullable(),
    policyVersion: p.integer().nullable(),
    requiredApprovals: p.integer(),
    approvals: p.json<ApprovalVote[]>(),
    expiresAt: p.datetime(3).nullable(),
  },
});

/** One approver's yes to a request that needs several. */
export interface ApprovalVote {
  id: string;
  name: string;
  at: string;
  comment: string | null;
}

/** What `approval.needed` asks for: one exact call of a task's step. */
export interface CallToApprove {
  taskId: string;
  stepId: string;
  tool: string;
  arguments: Record<string, unknown>;
  digest: string;
  riskLevel: (typeof RISK_LEVELS)[number];
  policyVersion: number;
  approvers: number;
  requestedBy: { id: string; name: string };
  reason: string;
}

/** Longest reason or decision comment. */
export const MAX_REASON_LENGTH = 2000;

/** An approver's verdict. */
export type Decision = 'APPROVE' | 'REJECT';

/** A request for a human to approve a task's dangerous step. */
export class ApprovalRequest extends ApprovalRequestSchema.class {
  /** Opens a PENDING request by a verified identity. */
  static open(
    input: { taskId: string; riskLevel: (typeof RISK_LEVELS)[number]; reason: string },
    requester: Identity,
  ): ApprovalRequest {
    const request = new ApprovalRequest();
    request.id = randomUUID();
    request.tenantId = requester.tenantId;
    request.taskId = input.taskId;
    request.status = 'PENDING';
    request.riskLevel = input.riskLevel;
    request.reason = boundedText(input.reason, 'reason', 1);
    request.requestedBy = requester.subjectId;
    request.requestedByName = requester.displayName;
    request.requestedAt = new Date();
    request.requiredApprovals = 1;
    request.approvals = [];
    return request;
  }

  /**
   * A request bound to one exact call, on behalf of the task owner (who therefore can never approve
   * it), expiring `ttlMs` from now. The digest must be the arguments' own (checked by the caller).
   */
  static forCall(tenantId: string, call: CallToApprove, ttlMs: number): ApprovalRequest {
    const request = new ApprovalRequest();
    request.id = randomUUID();
    request.tenantId = tenantId;
    request.taskId = call.taskId;
    request.stepId = call.stepId;
    request.status = 'PENDING';
    request.riskLevel = call.riskLevel;
    request.reason = boundedText(call.reason, 'reason', 1);
    request.tool = call.tool;
    request.arguments = call.arguments;
    request.digest = call.digest;
    request.policyVersion = call.policyVersion;
    request.requiredApprovals = call.approvers;
    request.approvals = [];
    request.requestedBy = call.requestedBy.id;
    request.requestedByName = call.requestedBy.name;
    request.requestedAt = new Date();
    request.expiresAt = new Date(request.requestedAt.getTime() + ttlMs);
    return request;
  }

  /** Whether the request passed its expiry undecided (it can no longer be decided). */
  expiredAt(now: Date): boolean {
    return (
      this.status === 'EXPIRED' ||
      (this.status === 'PENDING' && this.expiresAt != null && this.expiresAt <= now)
    );
  }

  /** Marks an undecided request past its expiry as EXPIRED. Returns whether it changed. */
  expire(now = new Date()): boolean {
    if (this.status !== 'PENDING' || !this.expiredAt(now)) return false;
    this.status = 'EXPIRED';
    this.decidedAt = now;
    return true;
  }

  /**
   * Records an approver's decision. Nobody decides their own request (FORBIDDEN); only a PENDING,
   * unexpired request can be decided (CONFLICT). A request needing N approvers is APPROVED by the
   * N-th distinct one (one reject suffices). Returns whether the request is now decided.
   */
  decide(
    decision: Decision,
    approver: Identity,
    comment: string | null | undefined,
    now = new Date(),
  ): boolean {
    if (approver.subjectId === this.requestedBy) {
      throw new ForbiddenError(
        `Approval request ${this.id} was made by you; another approver must decide it`,
        {
          id: this.id,
        },
      );
    }
    if (this.status !== 'PENDING') {
      throw new ConflictError(`Approval request ${this.id} is already ${this.status}`, {
        status: this.status,
      });
    }
    if (this.expiredAt(now)) {
      throw new ConflictError(
        `Approval request ${this.id} expired at ${this.expiresAt?.toISOString()}; the step it was for fails, and a new call needs a new request`,
        { status: 'EXPIRED' },
      );
    }
    const text = comment == null ? null : boundedText(comment, 'comment', 0);
    if (decision === 'APPROVE' && this.requiredApprovals > 1) {
      if (this.approvals.some((vote) => vote.id === approver.subjectId)) {
        throw new ConflictError(
          `You already approved request ${this.id}; it needs ${this.requiredApprovals} distinct approvers`,
          { approvals: this.approvals.length, required: this.requiredApprovals },
        );
      }
      this.approvals = [
        ...this.approvals,
        { id: approver.subjectId, name: approver.displayName, at: now.toISOString(), comment: text },
      ];
      if (this.approvals.length < this.requiredApprovals) return false;
    } else if (decision === 'APPROVE') {
      this.approvals = [
        { id: approver.subjectId, name: approver.displayName, at: now.toISOString(), comment: text },
      ];
    }
    this.status = decision === 'APPROVE' ? 'APPROVED' : 'REJECTED';
    this.decidedBy = approver.subjectId;
    this.decidedByName = approver.displayName;
    this.decidedAt = now;
    this.decisionComment = text;
    return true;
  }
}

function boundedText(value: string, field: string, min: number): string {
  const trimmed = value.trim();
  if (trimmed.length < min) throw new ValidationError(`${field} must not be empty`, { field });
  if (trimmed.length > MAX_REASON_LENGTH) {
    throw new ValidationError(
      `${field} must be at most ${MAX_REASON_LENGTH} characters (got ${trimmed.length})`,
      {
        field,
      },
    );
  }
  return trimmed;
}

ApprovalRequestSchema.setClass(ApprovalRequest);

export { ApprovalRequestSchema };
