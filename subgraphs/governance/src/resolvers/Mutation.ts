import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import { NotFoundError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import { ApprovalRequest, type Decision, type RISK_LEVELS } from '../domain/approval-request.entity.ts';
import { KillSwitch } from '../domain/kill-switch.entity.ts';

type RequestInput = { taskId: string; riskLevel: (typeof RISK_LEVELS)[number]; reason: string };
type DecideInput = { id: string; decision: Decision; comment?: string | null };

/** Mutation fields of the governance subgraph. */
export const Mutation: MutationResolvers = {
  requestApproval(_: unknown, args: { input: RequestInput }, ctx: RequestContext) {
    const taskId = parseId(args.input.taskId, 'input.taskId');
    return ctx.db.run(async (em) => {
      const request = ApprovalRequest.open({ ...args.input, taskId }, ctx.identity);
      em.persist(request);
      await em.flush();
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
      return request;
    });
  },

  engageKillSwitch(_: unknown, args: { reason: string }, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const state = await lockedSwitch(em, ctx.db.tenantId);
      state.engage(ctx.identity, args.reason);
      await em.flush();
      return state;
    });
  },

  releaseKillSwitch(_: unknown, __: unknown, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const state = await lockedSwitch(em, ctx.db.tenantId);
      state.release();
      await em.flush();
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
