import type { RequestContext } from '#kernel/graphql/context.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { KillSwitch } from '../domain/kill-switch.entity.ts';

/** Query fields of the governance subgraph. */
export const Query: QueryResolvers = {
  async killSwitch(_: unknown, __: unknown, ctx: RequestContext) {
    const found = await ctx.db.run((em) => em.findOne(KillSwitch, { tenantId: ctx.db.tenantId }));
    return found ?? KillSwitch.disengaged(ctx.db.tenantId);
  },
};
