import type { MikroORM } from '@mikro-orm/postgresql';
import { type AuditActor, recordAudit } from '../audit/audit-log.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import { isName, isUuid, NAME_RULE } from '../ids.ts';
import { withTenant } from './tenant-context.ts';

/** A registered WidgeTDC tenant; its id is the Entra ID directory (tenant) id, `tid`. */
export interface TenantRecord {
  id: string;
  slug: string;
  displayName: string;
  createdAt: Date;
}

/**
 * Registers the directory `tenantId` as a WidgeTDC tenant, recording who did it in the new tenant's
 * audit log in the same transaction. Unknown tenants are refused at sign-in until this has run
 * (unless TENANT_AUTO_PROVISION is on). A second registration of the same id is a conflict.
 */
export async function registerTenant(
  orm: MikroORM,
  input: { tenantId: string; slug: string; displayName: string },
  actor: AuditActor,
): Promise<TenantRecord> {
  const tenantId = input.tenantId.trim().toLowerCase();
  if (!isUuid(tenantId)) {
    throw new ValidationError(
      `tenant id must be the directory's GUID (tid), e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47 (got "${input.tenantId}")`,
    );
  }
  if (!isName(input.slug)) {
    throw new ValidationError(`slug must be ${NAME_RULE} (got "${input.slug}")`);
  }
  const displayName = input.displayName.trim();
  if (displayName.length < 1 || displayName.length > 200) {
    throw new ValidationError(`display name must be 1 to 200 characters (got ${displayName.length})`);
  }
  return withTenant(orm, tenantId, async (em) => {
    const rows = await em.execute<{ id: string; created_at: Date }[]>(
      `insert into platform.tenants (id, slug, display_name) values (?, ?, ?)
       on conflict do nothing returning id, created_at`,
      [tenantId, input.slug, displayName],
    );
    const created = rows[0];
    if (!created) throw new ConflictError(`Tenant ${tenantId} or slug "${input.slug}" is already registered`);
    await recordAudit(em, tenantId, {
      actor,
      action: 'platform.registerTenant',
      targetType: 'Tenant',
      targetId: tenantId,
      outcome: 'success',
      input,
    });
    return { id: tenantId, slug: input.slug, displayName, createdAt: new Date(created.created_at) };
  });
}

/** The tenant `tenantId`, or null when it is not registered. */
export async function findTenant(orm: MikroORM, tenantId: string): Promise<TenantRecord | null> {
  if (!isUuid(tenantId)) throw new ValidationError(`tenant id must be a GUID (got "${tenantId}")`);
  return withTenant(orm, tenantId.toLowerCase(), async (em) => {
    const [row] = await em.execute<{ id: string; slug: string; display_name: string; created_at: Date }[]>(
      'select id, slug, display_name, created_at from platform.tenants where id = ?',
      [tenantId.toLowerCase()],
    );
    return row
      ? { id: row.id, slug: row.slug, displayName: row.display_name, createdAt: new Date(row.created_at) }
      : null;
  });
}
