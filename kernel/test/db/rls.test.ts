import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { assertApplicationRole } from '#kernel/db/app-role-guard.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

const tenantA = randomUUID();
const tenantB = randomUUID();
const NO_TENANT_CONTEXT =
  /unrecognized configuration parameter "app.tenant_id"|invalid input syntax for type uuid: ""/;
let db: TestDatabase;
let orm: MikroORM;

const insertTask = (tenantId: string, title: string) =>
  withTenant(orm, tenantId, (em) =>
    em.execute(
      `insert into agent.tasks (id, tenant_id, title, created_by, created_by_name, created_at, updated_at)
       values (?, ?, ?, ?, 'tester', now(), now())`,
      [randomUUID(), tenantId, title, randomUUID()],
    ),
  );

/** Runs raw SQL as the application role outside any transaction or tenant context. */
const rawAsApp = (sql: string) => orm.em.fork().getConnection().execute(sql);

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.appUrl, entities: [] });
  for (const [id, slug] of [
    [tenantA, 'tenant-a'],
    [tenantB, 'tenant-b'],
  ] as const) {
    await withTenant(orm, id, (em) =>
      em.execute('insert into platform.tenants (id, slug, display_name) values (?, ?, ?)', [id, slug, slug]),
    );
  }
  await insertTask(tenantA, 'secret plan of A');
  await insertTask(tenantA, 'second plan of A');
  await insertTask(tenantB, 'plan of B');
});

afterAll(async () => {
  await orm?.close();
  await db?.close();
});

describe('row-level security', () => {
  it('shows a tenant only its own rows, even to a query with no tenant filter', async () => {
    const seenByB = await withTenant(orm, tenantB, (em) =>
      em.execute<{ title: string }[]>('select title from agent.tasks'),
    );
    expect(seenByB.map((r) => r.title)).toEqual(['plan of B']);
    const seenByA = await withTenant(orm, tenantA, (em) =>
      em.execute<{ n: number }[]>('select count(*)::int as n from agent.tasks'),
    );
    expect(seenByA[0]?.n).toBe(2);
  });

  it('hides other tenants from the tenant registry too', async () => {
    const rows = await withTenant(orm, tenantB, (em) =>
      em.execute<{ slug: string }[]>('select slug from platform.tenants'),
    );
    expect(rows.map((r) => r.slug)).toEqual(['tenant-b']);
  });

  it("refuses to write a row into another tenant's space", async () => {
    await expect(insertTaskAs(tenantB, tenantA)).rejects.toThrow(/row-level security/);
    const countA = await withTenant(orm, tenantA, (em) =>
      em.execute<{ n: number }[]>('select count(*)::int as n from agent.tasks'),
    );
    expect(countA[0]?.n).toBe(2);
  });

  it("cannot update or delete another tenant's rows (they are invisible)", async () => {
    const updated = await withTenant(orm, tenantB, (em) =>
      em.execute("update agent.tasks set title = 'pwned' where title like '%of A' returning id"),
    );
    expect(updated).toEqual([]);
    const deleted = await withTenant(orm, tenantB, (em) =>
      em.execute("delete from agent.tasks where title like '%of A' returning id"),
    );
    expect(deleted).toEqual([]);
    const titles = await withTenant(orm, tenantA, (em) =>
      em.execute<{ title: string }[]>('select title from agent.tasks order by title'),
    );
    expect(titles.map((r) => r.title)).toEqual(['second plan of A', 'secret plan of A']);
  });

  it('fails loudly when a query runs without a tenant context', async () => {
    // A fresh session has never seen the setting; a reused one has it reset to '' after commit.
    await expect(rawAsApp('select * from agent.tasks')).rejects.toThrow(NO_TENANT_CONTEXT);
  });

  it('keeps the tenant setting transaction-local', async () => {
    await withTenant(orm, tenantA, (em) => em.execute('select 1'));
    await expect(rawAsApp('select count(*) from knowledge.documents')).rejects.toThrow(NO_TENANT_CONTEXT);
  });

  it('rejects a tenant id that is not a UUID before touching the database', async () => {
    await expect(withTenant(orm, "x' or 1=1 --", async () => 1)).rejects.toThrow(/tenant id must be a UUID/);
  });
});

describe('the application role', () => {
  it('passes the start-up guard: not superuser, no BYPASSRLS, owns no table', async () => {
    await expect(assertApplicationRole(orm)).resolves.toBeUndefined();
  });

  it('cannot disable or drop row-level security', async () => {
    await expect(rawAsApp('alter table agent.tasks disable row level security')).rejects.toThrow(
      /must be owner/,
    );
    await expect(rawAsApp('alter table agent.tasks no force row level security')).rejects.toThrow(
      /must be owner/,
    );
    await expect(rawAsApp('drop policy tenant_isolation on agent.tasks')).rejects.toThrow(/must be owner/);
  });

  it('cannot become the owner role or grant itself BYPASSRLS', async () => {
    await expect(rawAsApp('set role widgetdc_owner')).rejects.toThrow(/permission denied/);
    await expect(rawAsApp('alter role widgetdc_app bypassrls')).rejects.toThrow(
      /permission denied|must be superuser/,
    );
  });

  it('cannot alter the audit log: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await withTenant(orm, tenantA, (em) =>
      em.execute(
        "insert into audit.audit_events (id, tenant_id, actor_id, actor, action, target_type, at) values (?, ?, 'alice', 'alice', 'test', 'Task', now())",
        [randomUUID(), tenantA],
      ),
    );
    await expect(
      withTenant(orm, tenantA, (em) => em.execute("update audit.audit_events set actor = 'mallory'")),
    ).rejects.toThrow(/permission denied/);
    await expect(
      withTenant(orm, tenantA, (em) => em.execute('delete from audit.audit_events')),
    ).rejects.toThrow(/permission denied/);
    await expect(withTenant(orm, tenantA, (em) => em.execute('truncate audit.audit_events'))).rejects.toThrow(
      /permission denied/,
    );
  });

  it('leaves the audit log append-only even for a superuser (triggers)', async () => {
    await expect(db.asSuperuser("update audit.audit_events set actor = 'mallory'")).rejects.toThrow(
      /append-only/,
    );
    await expect(db.asSuperuser('delete from audit.audit_events')).rejects.toThrow(/append-only/);
  });
});

describe('the start-up guard', () => {
  it('refuses a superuser connection, naming the role', async () => {
    if (db.kind === 'pglite') {
      // PGlite has one session and no per-connection login: sealing it is what makes services the
      // application role, so check that the seal holds for a brand-new connection.
      const fresh = await createOrm({ url: db.appUrl, entities: [] });
      try {
        const [who] = await fresh.em
          .fork()
          .execute<{ u: string; s: string }[]>('select current_user as u, session_user as s');
        expect(who).toEqual({ u: 'widgetdc_app', s: 'widgetdc_app' });
      } finally {
        await fresh.close();
      }
      return;
    }
    const superUrl = new URL(db.appUrl);
    superUrl.username = (await db.asSuperuser<{ u: string }>('select current_user as u'))[0]!.u;
    const privileged = await createOrm({ url: superUrl.toString(), entities: [] });
    try {
      await expect(assertApplicationRole(privileged)).rejects.toThrow(/connects as "\w+", a superuser/);
    } finally {
      await privileged.close();
    }
  });
});

function insertTaskAs(contextTenant: string, rowTenant: string) {
  return withTenant(orm, contextTenant, (em) =>
    em.execute(
      `insert into agent.tasks (id, tenant_id, title, created_by, created_by_name, created_at, updated_at)
       values (?, ?, 'smuggled', ?, 'mallory', now(), now())`,
      [randomUUID(), rowTenant, randomUUID()],
    ),
  );
}
