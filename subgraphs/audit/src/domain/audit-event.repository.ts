import { EntityRepository } from '@mikro-orm/postgresql';
import { keysetPage } from '#kernel/db/keyset-page.ts';
import type { PageRequest } from '#kernel/graphql/connection.ts';
import type { AUDIT_OUTCOMES, AuditEvent } from './audit-event.entity.ts';

/** Filters of the audit log query; every given one must match. */
export interface AuditFilter {
  actor?: string | null;
  action?: string | null;
  targetType?: string | null;
  targetId?: string | null;
  outcome?: (typeof AUDIT_OUTCOMES)[number] | null;
  from?: Date | null;
  to?: Date | null;
}

/** Queries over the audit log; row-level security limits them to the caller's tenant. */
export class AuditEventRepository extends EntityRepository<AuditEvent> {
  /** Up to `first + 1` events after the cursor, newest first, matching `filter`. */
  page(page: PageRequest, filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const where: Record<string, unknown>[] = [];
    if (filter.actor) where.push({ $or: [{ actorId: filter.actor }, { actor: filter.actor }] });
    if (filter.action) where.push({ action: filter.action });
    if (filter.targetType) where.push({ targetType: filter.targetType });
    if (filter.targetId) where.push({ targetId: filter.targetId });
    if (filter.outcome) where.push({ outcome: filter.outcome });
    if (filter.from) where.push({ at: { $gte: filter.from } });
    if (filter.to) where.push({ at: { $lt: filter.to } });
    return keysetPage(this, page, { at: 'at', where: { $and: where } as object });
  }

  /** Events of [from, to) in chain order, at most `limit`. */
  range(from: Date, to: Date, limit: number, afterSeq = 0): Promise<AuditEvent[]> {
    return this.find({ at: { $gte: from, $lt: to }, seq: { $gt: afterSeq } } as object, {
      orderBy: { seq: 'asc' },
      limit,
    });
  }
}
