import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { NotFoundError } from '#kernel/errors.ts';
import { eventSource, publish } from '#kernel/events/outbox.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import { ApprovalRequest, type Decision, type RISK_LEVELS } from '../domain/approval-request.entity.ts';
import { EventBusAdmin } from '../domain/event-bus-admin.ts';
import { KillSwitch } from '../domain/kill-switch.entity.ts';

type RequestInput = { taskId: string; riskLevel: (typeof RISK_LEVELS)[number]; reason: string };
type DecideInput = { id: string; decision: Decision; comment?: string | null };

/** Mutation fields of the governance subgraph. */
export const Mutation: MutationResolvers = {
  requestApproval(_: unknown, args: { input: RequestInput }, ctx: RequestContext) {
    const taskId = parseId(args.input.taskId, 'input.taskId');
    return ctx.db.run(async (em) => {
      const [found] = await em.execute<{ exists: boolean }[]>('select agent.task_exists(?) as exists', [
        taskId,
      ]);
      if (!found?.exists) throw new NotFoundError(`Task ${taskId} does not exist`, { taskId });
      const request = ApprovalRequest.open({ ...args.input, taskId }, ctx.identity);
      em.persist(request);
      await em.flush();
      await publish(em, {
        ...eventSource(ctx.identity),
        type: 'approval.requested',
        aggregate: { type: 'ApprovalRequest', id: request.id },
        payload: { approvalId: request.id, taskId, riskLevel: request.riskLevel },
      });
      return request;
    });
  },

  decideApproval(_: unknown, args: { input: DecideInput }, ctx: RequestContext) {
    const id = parseId(args.input.id, 'input.id');
    return ctx.db.run(async (em) => {
      const request = await em.findOne(ApprovalRequest, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!request) throw new NotFoundError(`Approval request ${id} does not exist`, { id });
      request.decide(args.input.decision, ctx.identity, args.input.comment);
      await em.flush();
      await publish(em, {
        ...eventSource(ctx.identity),
        type: 'approval.decided',
        aggregate: { type: 'ApprovalRequest', id: request.id },
        payload: {
          approvalId: request.id,
          taskId: request.taskId,
          decision: request.status === 'APPROVED' ? 'APPROVED' : 'REJECTED',
          decidedBy: ctx.identity.displayName,
        },
      });
      return request;
    });
  },

  engageKillSwitch(_: unknown, args: { reason: string }, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const state = await lockedSwitch(em, ctx.db.tenantId);
      const changed = state.engage(ctx.identity, args.reason);
      await em.flush();
      if (changed) await announce(em, ctx, state);
      return state;
    });
  },

  replayDeadLetter(_: unknown, args: { topic: string; id: string }, ctx: RequestContext) {
    return EventBusAdmin.of(ctx).replay(args.topic, args.id);
  },

  discardDeadLetter(_: unknown, args: { topic: string; id: string }, ctx: RequestContext) {
    return EventBusAdmin.of(ctx).discard(args.topic, args.id);
  },

  releaseKillSwitch(_: unknown, __: unknown, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const state = await lockedSwitch(em, ctx.db.tenantId);
      const changed = state.release();
      await em.flush();
      if (changed) await announce(em, ctx, state);
      return state;
    });
  },
};

async function lockedSwitch(em: EntityManager, tenantId: string): Promise<KillSwitch> {
  // Create the row first so concurrent engagements serialise on it.
  await em.execute(
    'insert into governance.kill_switches (tenant_id, engaged) values (?, false) on conflict do nothing',
    [tenantId],
  );
  const state = await em.findOne(KillSwitch, { tenantId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!state) throw new Error(`kill switch row of tenant ${tenantId} vanished`);
  return state;
}

function announce(em: EntityManager, ctx: RequestContext, state: KillSwitch) {
  return publish(em, {
    ...eventSource(ctx.identity),
    type: 'killswitch.changed',
    aggregate: { type: 'KillSwitch', id: state.tenantId },
    payload: { engaged: state.engaged, reason: state.reason ?? null },
  });
}
