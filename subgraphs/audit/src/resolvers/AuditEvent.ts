import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { AuditEventResolvers } from '../__generated__/resolvers-types.ts';
import { AuditEvent as AuditEventEntity } from '../domain/audit-event.entity.ts';

/** Field and reference resolvers of `AuditEvent`. */
export const AuditEvent: AuditEventResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => em.findOne(AuditEventEntity, { id }));
  },
  sequence: (event: AuditEventEntity) => event.seq,
  actorKind: (event: AuditEventEntity) =>
    event.actorKind.toUpperCase() as Uppercase<AuditEventEntity['actorKind']>,
  outcome: (event: AuditEventEntity) => event.outcome.toUpperCase() as Uppercase<AuditEventEntity['outcome']>,
  inputSummary: (event: AuditEventEntity) =>
    event.inputSummary == null ? null : JSON.stringify(event.inputSummary),
  previousHash: (event: AuditEventEntity) => event.prevHash,
};
