import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { ValidationError } from '../errors.ts';
import { isUuid } from '../ids.ts';
import { HOLD } from './piggyback-begin.ts';
import { TENANT_SETTING } from './roles.ts';

/**
 * Runs `work` in one transaction whose `app.tenant_id` is set locally (`set_config(…, true)`), on a
 * fresh EntityManager fork. This is the only way services reach tenant data: row-level security
 * policies read that setting, and without it every query on a tenant table fails.
 */
export async function withTenant<T>(
  orm: MikroORM,
  tenantId: string,
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  return tenantScope(orm, tenantId).run(work);
}

/** A tenant-bound EntityManager fork: one per request or job; each `run` is one transaction. */
export interface TenantScope {
  readonly tenantId: string;
  run<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
}

/** Creates the tenant-bound fork used by one request or job. */
export function tenantScope(orm: MikroORM, tenantId: string): TenantScope {
  if (!isUuid(tenantId)) throw new ValidationError(`tenant id must be a UUID (got "${tenantId}")`);
  const em = orm.em.fork({ clear: true });
  // A literal, not a parameter: the id is a validated UUID, and a statement without parameters is
  // held with the transaction's BEGIN and sent with its first statement (piggyback-begin.ts).
  const setTenant = `${HOLD}select set_config('${TENANT_SETTING}', '${tenantId.toLowerCase()}', true)`;
  return {
    tenantId,
    run: (work) =>
      em.transactional(async (tx) => {
        await tx.execute(setTenant);
        return work(tx);
      }),
  };
}
