import { LockMode } from '@mikro-orm/postgresql';
import { eventSource, publish } from '#events/producer/outbox.ts';
import { NotFoundError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import { Task } from '../domain/task.entity.ts';
import { TaskCreated, TaskStatusChanged } from '../events.ts';

/** Mutation fields of the agent subgraph. */
export const Mutation: MutationResolvers = {
  createTask(_: unknown, args: { input: { title: string } }, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      const task = Task.open(args.input.title, ctx.identity);
      em.persist(task);
      await em.flush();
      await publish(em, TaskCreated, {
        ...eventSource(ctx.identity),
        aggregate: { type: 'Task', id: task.id },
        payload: { taskId: task.id, title: task.title },
      });
      return task;
    });
  },

  cancelTask(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run(async (em) => {
      const task = await em.findOne(Task, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!task) throw new NotFoundError(`Task ${id} does not exist`, { id });
      const from = task.moveTo('CANCELLED');
      await em.flush();
      await publish(em, TaskStatusChanged, {
        ...eventSource(ctx.identity),
        aggregate: { type: 'Task', id: task.id },
        payload: {
          taskId: task.id,
          from,
          to: 'CANCELLED',
          reason: `cancelled by ${ctx.identity.displayName}`.slice(0, 500),
        },
      });
      return task;
    });
  },
};
