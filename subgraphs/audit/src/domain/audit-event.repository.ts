import { EntityRepository } from '@mikro-orm/postgresql';
import { afterKeyset, type PageRequest } from '#kernel/graphql/connection.ts';
import type { AuditEvent } from './audit-event.entity.ts';

/** Queries over the audit log; row-level security limits them to the caller's tenant. */
export class AuditEventRepository extends EntityRepository<AuditEvent> {
  /** Up to `first + 1` events after the cursor, newest first. */
  page(page: PageRequest): Promise<AuditEvent[]> {
    return this.find(afterKeyset(page.after, 'at') as object, {
      orderBy: { at: 'desc', id: 'desc' },
      limit: page.first + 1,
    });
  }
}
