import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { TaskResolvers } from '../__generated__/resolvers-types.ts';
import { approvalsByTask } from './loaders.ts';

/** Governance's part of `Task`: its approvals. */
export const Task: TaskResolvers = {
  __resolveReference(reference: { id: string }) {
    return { id: parseId(reference.id) };
  },
  approvals(task: { id: string }, _: unknown, ctx: RequestContext) {
    return approvalsByTask(ctx).load(task.id);
  },
};
