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
  // An undecided request past its expiry is EXPIRED before the sweeper gets to it.
  status: (request: ApprovalRequestEntity) => (request.expiredAt(new Date()) ? 'EXPIRED' : request.status),
  task: (request: ApprovalRequestEntity) => ({ __typename: 'Task', id: request.taskId }),
  requestedBy: (request: ApprovalRequestEntity) => request.requestedByName,
  decidedBy: (request: ApprovalRequestEntity) => request.decidedByName ?? null,
  approvals: (request: ApprovalRequestEntity) =>
    request.approvals.map((vote) => ({ approver: vote.name, at: new Date(vote.at), comment: vote.comment })),
};
