import DataLoader from 'dataloader';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { ApprovalRequest } from '../domain/approval-request.entity.ts';

const perRequest = new WeakMap<RequestContext, DataLoader<string, ApprovalRequest[]>>();

/** Batches `Task.approvals` of one request into a single query. */
export function approvalsByTask(ctx: RequestContext): DataLoader<string, ApprovalRequest[]> {
  let loader = perRequest.get(ctx);
  if (!loader) {
    loader = new DataLoader(async (taskIds) => {
      const byTask = await ctx.db.run((em) => em.getRepository(ApprovalRequest).byTasks(taskIds));
      return taskIds.map((id) => byTask.get(id) ?? []);
    });
    perRequest.set(ctx, loader);
  }
  return loader;
}
