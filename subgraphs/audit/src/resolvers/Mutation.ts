import { UnavailableError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import type { ChainAnchor } from '../anchor/chain-anchor.ts';
import { checkpointTenant } from '../anchor/checkpointer.ts';

/** Mutation fields of the audit subgraph. */
export const mutationResolvers = (anchor: ChainAnchor | null): MutationResolvers => ({
  async checkpointAuditChain(_: unknown, _args: unknown, ctx: RequestContext) {
    if (!anchor) throw new UnavailableError('Audit checkpoints are not configured in this audit service');
    const result = await ctx.db.run((em) => checkpointTenant(em, ctx.db.tenantId, anchor));
    if (!result) throw new UnavailableError('The tenant has no audit events to checkpoint yet');
    const { checkpoint, created } = result;
    return {
      sequence: checkpoint.seq,
      hash: checkpoint.hash,
      at: checkpoint.at,
      checkpointedAt: checkpoint.checkpointedAt,
      keyId: checkpoint.keyId,
      created,
    };
  },
});
