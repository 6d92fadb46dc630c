import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { ApprovalRequestResolvers } from '../__generated__/resolvers-types.ts';
import { ApprovalRequest as ApprovalRequestEntity } from '../domain/approval-request.entity.ts';

/** Field and reference resolvers of `ApprovalRequest`. */
export const ApprovalRequest: ApprovalRequestResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => em.findOne(ApprovalRequestEntity, { id }));
  },
  task: (request: ApprovalRequestEntity) => ({ __typename: 'Task', id: request.taskId }),
  requestedBy: (request: ApprovalRequestEntity) => request.requestedByName,
  decidedBy: (request: ApprovalRequestEntity) => request.decidedByName ?? null,
};
