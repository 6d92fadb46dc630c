import { defineEntity, p } from '@mikro-orm/postgresql';
import { AuditEventRepository } from './audit-event.repository.ts';

const AuditEventSchema = defineEntity({
  name: 'AuditEvent',
  schema: 'audit',
  tableName: 'audit_events',
  repository: () => AuditEventRepository,
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    actor: p.text(),
    action: p.text(),
    targetType: p.text(),
    targetId: p.text().nullable(),
    at: p.datetime(3),
  },
});

/** An entry of the append-only audit log (the database refuses updates and deletes). */
export class AuditEvent extends AuditEventSchema.class {}

AuditEventSchema.setClass(AuditEvent);

export { AuditEventSchema };
