import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { eventSource, publish } from '#events/producer/outbox.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { NotFoundError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import { ApprovalRequest, type Decision, type RISK_LEVELS } from '../domain/approval-request.entity.ts';
import { EventBusAdmin } from '../domain/event-bus-admin.ts';
import { KillSwitch } from '../domain/kill-switch.entity.ts';
import { changePlatformKillSwitch } from '../domain/platform-kill-switch.ts';
import type { TaskLookup } from '../domain/task-lookup.ts';
import { ApprovalDecided, ApprovalRequested, KillSwitchChanged } from '../events.ts';
import { readKillSwitchView } from './KillSwitch.ts';

type RequestInput = { taskId: string; riskLevel: (typeof RISK_LEVELS)[number]; reason: string };
type DecideInput = { id: string; decision: Decision; comment?: string | null };

/** Mutation fields of the governance subgraph; tasks are looked up through the graph. */
export const mutationResolvers = (
  tasks: TaskLookup,
  events: StreamTransport | undefined,
): MutationResolvers => ({
  async requestApproval(_: unknown, args: { input: RequestInput }, ctx: RequestContext) {
    const taskId = parseId(args.input.taskId, 'input.taskId');
    // Asked before the transaction begins, so no transaction waits on another service.
    if (!(await tasks.exists(ctx, taskId))) {
      throw new NotFoundError(`Task ${taskId} does not exist`, { taskId });
    }
    return ctx.db.run(async (em) => {
      const request = ApprovalRequest.open({ ...args.input, taskId }, ctx.identity);
      em.persist(request);
      await em.flush();
      await publish(em, ApprovalRequested, {
        ...eventSource(ctx.identity),
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
      const decided = request.decide(args.input.decision, ctx.identity, args.input.comment);
      await em.flush();
      if (!decided) return request; // more distinct approvers needed
      await publish(em, ApprovalDecided, {
        ...eventSource(ctx.identity),
        aggregate: { type: 'ApprovalRequest', id: request.id },
        payload: {
          approvalId: request.id,
          taskId: request.taskId,
          decision: request.status === 'APPROVED' ? 'APPROVED' : 'REJECTED',
          decidedBy: ctx.identity.displayName,
          ...(request.stepId
            ? {
                stepId: request.stepId,
                digest: request.digest!,
                policyVersion: request.policyVersion!,
                expiresAt: request.expiresAt!.toISOString(),
                approvers: request.approvals.map((vote) => ({ id: vote.id, name: vote.name })),
              }
            : {}),
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
      return readKillSwitchView(em, ctx);
    });
  },

  async engagePlatformKillSwitch(_: unknown, args: { reason: string }, ctx: RequestContext) {
    await changePlatformKillSwitch(ctx, { engage: true, reason: args.reason });
    return ctx.db.run((em) => readKillSwitchView(em, ctx));
  },

  async releasePlatformKillSwitch(_: unknown, __: unknown, ctx: RequestContext) {
    await changePlatformKillSwitch(ctx, { engage: false });
    return ctx.db.run((em) => readKillSwitchView(em, ctx));
  },

  replayDeadLetter(_: unknown, args: { topic: string; id: string }, ctx: RequestContext) {
    return EventBusAdmin.of(ctx, events).replay(args.topic, args.id);
  },

  discardDeadLetter(_: unknown, args: { topic: string; id: string }, ctx: RequestContext) {
    return EventBusAdmin.of(ctx, events).discard(args.topic, args.id);
  },

  releaseKillSwitch(_: unknown, __: unknown, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const state = await lockedSwitch(em, ctx.db.tenantId);
      const changed = state.release();
      await em.flush();
      if (changed) await announce(em, ctx, state);
      return readKillSwitchView(em, ctx);
    });
  },
});

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
  return publish(em, KillSwitchChanged, {
    ...eventSource(ctx.identity),
    aggregate: { type: 'KillSwitch', id: state.tenantId },
    payload: {
      engaged: state.engaged,
      reason: state.reason ?? null,
      scope: 'TENANT',
      engagedBy: state.engagedBy ?? null,
    },
  });
}
