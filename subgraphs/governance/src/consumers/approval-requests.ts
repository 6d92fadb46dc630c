import { callDigest } from '#contracts/call-digest.ts';
import { ApprovalNeeded } from '#contracts/events/agent.ts';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { UnrecoverableError } from '#events/errors.ts';
import { loadGovernanceConfig } from '../config.ts';
import { ApprovalRequest, ApprovalRequestSchema } from '../domain/approval-request.entity.ts';
import { ApprovalRequested } from '../events.ts';

/**
 * `governance-approvals`: opens the approval request a task's step asks for (`approval.needed`),
 * bound to the exact call: tool, full arguments, their digest (recomputed here; a mismatch is
 * refused), policy version, approvers needed and expiry; announces it as `approval.requested`.
 */
export function createApprovalRequests(options: { ttlMs: number }) {
  return defineConsumer({
    group: 'governance-approvals',
    events: [ApprovalNeeded],
    entities: [ApprovalRequestSchema],
    async handle(event, ctx) {
      const call = event.payload;
      if (callDigest(call.tool, call.arguments) !== call.digest) {
        throw new UnrecoverableError(
          `approval.needed for step ${call.stepId}: the digest is not its arguments'`,
        );
      }
      const existing = await ctx.em.findOne(ApprovalRequest, {
        stepId: call.stepId,
        digest: call.digest,
        policyVersion: call.policyVersion,
      });
      if (existing) return;
      const request = ApprovalRequest.forCall(event.tenantId, call, options.ttlMs);
      ctx.em.persist(request);
      await ctx.em.flush();
      await ctx.publish(ApprovalRequested, {
        aggregate: { type: 'ApprovalRequest', id: request.id },
        onBehalfOf: call.requestedBy,
        payload: {
          approvalId: request.id,
          taskId: call.taskId,
          riskLevel: request.riskLevel,
          stepId: call.stepId,
          tool: call.tool,
          digest: call.digest,
          expiresAt: request.expiresAt!.toISOString(),
        },
      });
    },
  });
}

/** The consumer `npm run worker -- --group governance-approvals` runs (APPROVAL_TTL). */
export const governanceApprovals = createApprovalRequests({ ttlMs: loadGovernanceConfig().approvalTtlMs });
