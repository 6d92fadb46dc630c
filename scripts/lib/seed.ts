import { randomUUID } from 'node:crypto';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';

/** Slug of the tenant `npm start` seeds. */
export const DEMO_TENANT = 'demo';

/**
 * Registers the demo tenant with a few documents and a task, once (a second run changes nothing).
 * Runs as the application role, through row-level security like any service.
 */
export async function seedDemoTenant(url: string): Promise<{ created: boolean }> {
  const orm = await createOrm({ url, entities: [], poolMax: 1 });
  const tenantId = devTenantId(DEMO_TENANT);
  const owner = devUserId(DEMO_TENANT, 'alice');
  try {
    return await withTenant(orm, tenantId, async (em) => {
      const inserted = await em.execute<{ id: string }[]>(
        `insert into platform.tenants (id, slug, display_name) values (?, ?, 'Demo tenant')
         on conflict do nothing returning id`,
        [tenantId, DEMO_TENANT],
      );
      if (inserted.length === 0) return { created: false };
      const now = Date.now();
      const documents = [
        ['Employee handbook', 'application/pdf'],
        ['Security policy', 'text/markdown'],
        ['Quarterly report Q3', 'application/pdf'],
      ];
      for (const [i, [title, mime]] of documents.entries()) {
        await em.execute(
          `insert into knowledge.documents (id, tenant_id, title, mime_type, status, created_by, created_at)
           values (?, ?, ?, ?, 'READY', ?, ?)`,
          [randomUUID(), tenantId, title, mime, owner, new Date(now - (documents.length - i) * 1000)],
        );
      }
      const taskId = randomUUID();
      await em.execute(
        `insert into agent.tasks (id, tenant_id, title, status, created_by, created_by_name, created_at, updated_at)
         values (?, ?, 'Summarise the security policy for new joiners', 'WAITING_FOR_APPROVAL', ?, ?, ?, ?)`,
        [taskId, tenantId, owner, `alice@${DEMO_TENANT}.dev.widgetdc`, new Date(now), new Date(now)],
      );
      await em.execute(
        `insert into governance.approval_requests (id, tenant_id, task_id, status, risk_level, requested_by, requested_at)
         values (?, ?, ?, 'PENDING', 'HIGH', ?, ?)`,
        [randomUUID(), tenantId, taskId, owner, new Date(now)],
      );
      return { created: true };
    });
  } finally {
    await orm.close();
  }
}
