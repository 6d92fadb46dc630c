import type { MikroORM } from '@mikro-orm/postgresql';
import type { Identity } from '../auth/identity.ts';
import { ForbiddenError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { withTenant } from './tenant-context.ts';

/** How long a tenant found in the database is remembered by one process. */
export const TENANT_CACHE_TTL_MS = 60_000;

/** Options of {@link createTenantDirectory}. */
export interface TenantDirectoryOptions {
  /** Register unknown tenants on first use (development); otherwise they are refused. */
  autoProvision: boolean;
  logger?: Logger;
  cacheTtlMs?: number;
}

/** Checks that a verified identity's tenant is registered. */
export interface TenantDirectory {
  ensureRegistered(identity: Identity): Promise<void>;
}

/** Creates the directory of one process; positive answers are cached briefly. */
export function createTenantDirectory(orm: MikroORM, options: TenantDirectoryOptions): TenantDirectory {
  const ttl = options.cacheTtlMs ?? TENANT_CACHE_TTL_MS;
  const known = new Map<string, number>();
  return {
    async ensureRegistered(identity) {
      const tenantId = identity.tenantId;
      if ((known.get(tenantId) ?? 0) > Date.now()) return;
      const registered = await withTenant(orm, tenantId, async (em) => {
        const rows = await em.execute<{ id: string }[]>('select id from platform.tenants where id = ?', [
          tenantId,
        ]);
        if (rows.length > 0) return true;
        if (!options.autoProvision) return false;
        const slug = identity.tenantSlug ?? `t-${tenantId.slice(0, 8)}`;
        await em.execute(
          'insert into platform.tenants (id, slug, display_name) values (?, ?, ?) on conflict do nothing',
          [tenantId, slug, slug],
        );
        options.logger?.info(`registered tenant ${slug} (${tenantId}) on first use`);
        return true;
      });
      if (!registered) {
        throw new ForbiddenError(
          `Tenant ${tenantId} is not registered with WidgeTDC; an administrator must register it first`,
        );
      }
      known.set(tenantId, Date.now() + ttl);
    },
  };
}
