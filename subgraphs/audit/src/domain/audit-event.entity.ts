import { defineEntity, p } from '@mikro-orm/postgresql';
import { AuditEventRepository } from './audit-event.repository.ts';

/** How an audited attempt ended (lower case in the database). */
export const AUDIT_OUTCOMES = ['success', 'denied', 'failed'] as const;

const AuditEventSchema = defineEntity({
  name: 'AuditEvent',
  schema: 'audit',
  tableName: 'audit_events',
  repository: () => AuditEventRepository,
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    seq: p.bigint('number'),
    actorKind: p.enum(['user', 'service'] as const),
    actorId: p.text(),
    actor: p.text(),
    onBehalfOf: p.text().nullable(),
    action: p.text(),
    targetType: p.text(),
    targetId: p.text().nullable(),
    outcome: p.enum(AUDIT_OUTCOMES),
    requestId: p.text().nullable(),
    traceId: p.text().nullable(),
    inputSummary: p.json<unknown>().nullable(),
    at: p.datetime(3),
    prevHash: p.text(),
    hash: p.text(),
  },
});

/**
 * An entry of the append-only audit log. The database refuses updates and deletes and assigns
 * `seq`, `prevHash` and `hash` itself; services only ever insert through kernel/src/audit.
 */
export class AuditEvent extends AuditEventSchema.class {}

AuditEventSchema.setClass(AuditEvent);

export { AuditEventSchema };
