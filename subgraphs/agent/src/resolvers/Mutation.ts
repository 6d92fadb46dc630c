import { LockMode } from '@mikro-orm/postgresql';
import { eventSource, publish } from '#events/producer/outbox.ts';
import { NotFoundError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import type { AgentConfig } from '../config.ts';
import { Task } from '../domain/task.entity.ts';
import { type CreateTaskInput, createTask } from '../domain/task.service.ts';
import { TaskStep } from '../domain/task-step.entity.ts';
import { currentPolicy, ToolPolicy, type ToolRule } from '../domain/tool-policy.entity.ts';
import { TaskStatusChanged } from '../events.ts';
import type { ToolRegistry } from '../tools/registry.ts';

/** Mutation fields of the agent subgraph. */
export const mutationResolvers = (tools: ToolRegistry, config: AgentConfig): MutationResolvers => ({
  createTask(_: unknown, args: { input: CreateTaskInput }, ctx: RequestContext) {
    return ctx.db.run((em) =>
      createTask(em, tools, ctx.identity, args.input, config.steps.maxAttempts, {
        llm: config.llm.provider !== 'offline',
      }),
    );
  },

  cancelTask(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run(async (em) => {
      const task = await em.findOne(Task, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!task) throw new NotFoundError(`Task ${id} does not exist`, { id });
      const from = task.moveTo('CANCELLED');
      for (const step of await em.find(TaskStep, { taskId: id })) {
        if (!step.finished)
          step.finish('CANCELLED', { error: `task cancelled by ${ctx.identity.displayName}` });
      }
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

  setToolPolicy(_: unknown, args: { rules: ToolRule[] }, ctx: RequestContext) {
    return ctx.db.run(async (em) => {
      // Serialises concurrent changes of one tenant's policy (the next version is previous + 1).
      await em.execute("select pg_advisory_xact_lock(hashtext('agent.tool_policies'), hashtext(?))", [
        ctx.db.tenantId,
      ]);
      const previous = await currentPolicy(em, ctx.db.tenantId);
      const classOf = (name: string) => {
        const tool = tools.get(name);
        if (!tool.riskLevel) return 'HIGH' as const;
        return tool.riskLevel;
      };
      const next = ToolPolicy.next(previous, args.rules, classOf, ctx.identity);
      em.persist(next);
      await em.flush();
      return next;
    });
  },
});
