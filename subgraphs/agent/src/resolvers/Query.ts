import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { Task } from '../domain/task.entity.ts';

/** Query fields of the agent subgraph. */
export const Query: QueryResolvers = {
  async tasks(_: unknown, args: PageArgs, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => em.getRepository(Task).page(page));
    return toConnection(rows, page, (task) => ({ at: task.createdAt, id: task.id }));
  },

  task(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run((em) => em.findOne(Task, { id }));
  },
};
