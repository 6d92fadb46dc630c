import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import { approvalsByTask } from './loaders.ts';

/** Governance's part of `Task`: its approvals. */
export const Task = {
  __resolveReference(reference: { id: string }) {
    return { id: parseId(reference.id) };
  },
  approvals(task: { id: string }, _: unknown, ctx: RequestContext) {
    return approvalsByTask(ctx).load(task.id);
  },
};
