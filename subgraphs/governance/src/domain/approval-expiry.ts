import { LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { Actor } from '#events/catalogue.ts';
import { publish } from '#events/producer/outbox.ts';
import { recordAudit } from '#kernel/audit/audit-log.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { ApprovalExpired } from '../events.ts';
import { ApprovalRequest } from './approval-request.entity.ts';

/**
 * Marks every tenant's undecided requests past their expiry EXPIRED, each with its audit record
 * and an `approval.expired` event (the agent fails the step closed), as `actorFor(tenant)`.
 * Returns how many expired.
 */
export async function expireApprovals(
  orm: MikroORM,
  actorFor: (tenantId: string) => Promise<Actor>,
  now = new Date(),
): Promise<number> {
  const rows = (await orm.em
    .fork()
    .execute('select governance.tenants_with_expired_approvals(?) as tenant_id', [now])) as {
    tenant_id: string;
  }[];
  let expired = 0;
  for (const { tenant_id: tenantId } of rows) {
    const actor = await actorFor(tenantId);
    expired += await withTenant(orm, tenantId, async (em) => {
      const due = await em.find(
        ApprovalRequest,
        { status: 'PENDING', expiresAt: { $lte: now } },
        // skip rows another sweeper or a deciding approver holds
        { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
      );
      for (const request of due) {
        request.expire(now);
        await em.flush();
        const onBehalfOf = { id: request.requestedBy, name: request.requestedByName };
        await publish(em, ApprovalExpired, {
          tenantId,
          actor,
          onBehalfOf,
          aggregate: { type: 'ApprovalRequest', id: request.id },
          payload: {
            approvalId: request.id,
            taskId: request.taskId,
            ...(request.stepId ? { stepId: request.stepId } : {}),
          },
        });
        await recordAudit(em, tenantId, {
          actor: { ...actor, onBehalfOf },
          action: 'governance.approval.expired',
          targetType: 'ApprovalRequest',
          targetId: request.id,
          outcome: 'success',
          input: {
            taskId: request.taskId,
            stepId: request.stepId,
            tool: request.tool,
            expiresAt: request.expiresAt,
          },
        });
      }
      return due.length;
    });
  }
  return expired;
}
