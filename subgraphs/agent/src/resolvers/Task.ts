import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { TaskResolvers } from '../__generated__/resolvers-types.ts';
import { Task as TaskEntity } from '../domain/task.entity.ts';
import { TaskStep } from '../domain/task-step.entity.ts';

/** Field and reference resolvers of `Task`. */
export const Task: TaskResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => em.findOne(TaskEntity, { id }));
  },
  createdBy: (task: TaskEntity) => task.createdByName,
  goal: (task: TaskEntity) => task.goal ?? task.title,
  plannerUsage: (task: TaskEntity) =>
    task.planner === 'LLM'
      ? {
          modelCalls: task.plannerModelCalls,
          toolCalls: task.plannerToolCalls,
          promptTokens: task.plannerPromptTokens,
          completionTokens: task.plannerCompletionTokens,
          totalTokens: task.plannerPromptTokens + task.plannerCompletionTokens,
          modelMs: task.plannerElapsedMs,
        }
      : null,
  steps: (task: TaskEntity, _: unknown, ctx: RequestContext) =>
    ctx.db.run((em) => em.find(TaskStep, { taskId: task.id }, { orderBy: { ordinal: 'asc' } })),
};
