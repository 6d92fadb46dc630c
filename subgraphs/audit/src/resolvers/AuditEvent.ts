import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { AuditEventResolvers } from '../__generated__/resolvers-types.ts';
import { AuditEvent as AuditEventEntity } from '../domain/audit-event.entity.ts';

/** Reference resolver of `AuditEvent`. */
export const AuditEvent: AuditEventResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => em.findOne(AuditEventEntity, { id }));
  },
};
