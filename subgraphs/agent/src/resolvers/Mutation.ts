import type { RequestContext } from '#kernel/graphql/context.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import { Task } from '../domain/task.entity.ts';

/** Mutation fields of the agent subgraph. */
export const Mutation: MutationResolvers = {
  createTask(_: unknown, args: { input: { title: string } }, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const task = Task.open(args.input.title, ctx.identity);
      em.persist(task);
      await em.flush();
      return task;
    });
  },
};
