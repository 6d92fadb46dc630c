import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { Document } from '../domain/document.entity.ts';

/** Query fields of the knowledge subgraph. */
export const Query: QueryResolvers = {
  async documents(_: unknown, args: PageArgs, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => em.getRepository(Document).page(page));
    return toConnection(rows, page, (doc) => ({ at: doc.createdAt, id: doc.id }));
  },

  document(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run((em) => em.findOne(Document, { id }));
  },
};
