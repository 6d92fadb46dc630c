import { defineEntity, p } from '@mikro-orm/postgresql';
import { ApprovalRequestRepository } from './approval-request.repository.ts';

/** Risk classes of tool calls. */
export const RISK_LEVELS = ['SAFE', 'MEDIUM', 'HIGH'] as const;
/** Every status an approval request can be in. */
export const APPROVAL_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'] as const;

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
    requestedBy: p.uuid(),
    requestedAt: p.datetime(3),
    decidedBy: p.uuid().nullable(),
    decidedAt: p.datetime(3).nullable(),
  },
});

/** A request for a human to approve a task's dangerous step. */
export class ApprovalRequest extends ApprovalRequestSchema.class {}

ApprovalRequestSchema.setClass(ApprovalRequest);

export { ApprovalRequestSchema };
