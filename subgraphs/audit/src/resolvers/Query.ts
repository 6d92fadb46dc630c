import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { AuditEvent } from '../domain/audit-event.entity.ts';

/** Query fields of the audit subgraph. */
export const Query: QueryResolvers = {
  async auditEvents(_: unknown, args: PageArgs, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => em.getRepository(AuditEvent).page(page));
    return toConnection(rows, page, (event) => ({ at: event.at, id: event.id }));
  },
};
