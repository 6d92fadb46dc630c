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
  },
});

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
    return request;
  }

  /**
   * Records an approver's decision. Nobody decides their own request (FORBIDDEN); only a PENDING
   * request can be decided (CONFLICT).
   */
  decide(decision: Decision, approver: Identity, comment: string | null | undefined): void {
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
    this.status = decision === 'APPROVE' ? 'APPROVED' : 'REJECTED';
    this.decidedBy = approver.subjectId;
    this.decidedByName = approver.displayName;
    this.decidedAt = new Date();
    this.decisionComment = comment == null ? null : boundedText(comment, 'comment', 0);
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
