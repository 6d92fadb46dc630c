import { readdirSync } from 'node:fs';
import { PLATFORM_SCHEMAS } from '#kernel/db/roles.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

let db: TestDatabase;
/** Every migration file, in the order they apply. */
const MIGRATION_NAMES = readdirSync(new URL('../../../migrations/', import.meta.url))
  .filter((file) => /^Migration\d{14}_\w+\.ts$/.test(file))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();
const schemas = PLATFORM_SCHEMAS.map((s) => `'${s}'`).join(', ');

/**
 * The embedded event transport's tables stand in for Redis Streams: infrastructure the worker reads
 * across tenants (each envelope names its tenant), not tenant tables (docs/adr/0005-event-bus.md).
 */
const EMBEDDED_TRANSPORT_TABLES = [
  'platform.stream_entries',
  'platform.stream_groups',
  'platform.stream_pending',
  'platform.stream_dead_letters',
];

/**
 * The platform-wide kill switch and the runners' copy of it (ADR 0029): one row outside any tenant that
 * every tenant reads and nobody but a SECURITY DEFINER function writes. Checked on their own below.
 */
const PLATFORM_WIDE_TABLES = ['agent.platform_kill_switch_state', 'governance.platform_kill_switch'];

/** Tables of the platform schemas, except the migrator's bookkeeping and the embedded transport. */
const TABLES = `select c.oid, n.nspname || '.' || c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as forced,
                       pg_get_userbyid(c.relowner) as owner
                  from pg_class c join pg_namespace n on n.oid = c.relnamespace
                 where c.relkind = 'r' and n.nspname in (${schemas}) and c.relname <> 'mikro_orm_migrations'
                   and n.nspname || '.' || c.relname not in (${[...EMBEDDED_TRANSPORT_TABLES, ...PLATFORM_WIDE_TABLES].map((t) => `'${t}'`).join(', ')})
                 order by 2`;

/** Everything a migration can change, as comparable text. */
async function catalog(): Promise<unknown[]> {
  return db.asSuperuser(`
    select 'column' as kind, table_schema || '.' || table_name || '.' || column_name || ':' || udt_name || ':' || is_nullable as item
      from information_schema.columns where table_schema in (${schemas})
    union all select 'policy', schemaname || '.' || tablename || '.' || policyname || ':' || coalesce(qual, '') from pg_policies
    union all select 'index', schemaname || '.' || indexname || ':' || indexdef from pg_indexes where schemaname in (${schemas})
    union all select 'grant', table_schema || '.' || table_name || ':' || grantee || ':' || privilege_type
      from information_schema.role_table_grants where table_schema in (${schemas})
    order by 1, 2`);
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe('migrations', () => {
  it('record every migration as applied, in order', async () => {
    const rows = await db.asSuperuser<{ name: string }>('select name from platform.mikro_orm_migrations');
    expect(rows.map((r) => r.name)).toEqual(MIGRATION_NAMES);
  });

  it('are a no-op when applied again', async () => {
    const before = await catalog();
    const result = await db.migrate();
    expect(result).toEqual({ applied: [], alreadyApplied: MIGRATION_NAMES.length });
    expect(await catalog()).toEqual(before);
  });

  it('create one schema per subgraph, owned by the owner role', async () => {
    const rows = await db.asSuperuser<{ nspname: string; owner: string }>(
      `select nspname, pg_get_userbyid(nspowner) as owner from pg_namespace where nspname in (${schemas}) order by 1`,
    );
    expect(rows).toEqual(
      [...PLATFORM_SCHEMAS].sort().map((nspname) => ({ nspname, owner: 'widgetdc_owner' })),
    );
  });

  it('force row-level security with an app.tenant_id policy and a tenant index on every table', async () => {
    const tables = await db.asSuperuser<{
      oid: number;
      name: string;
      rls: boolean;
      forced: boolean;
      owner: string;
    }>(TABLES);
    expect(tables.length).toBeGreaterThanOrEqual(7);
    for (const table of tables) {
      expect({ table: table.name, rls: table.rls, forced: table.forced, owner: table.owner }).toEqual({
        table: table.name,
        rls: true,
        forced: true,
        owner: 'widgetdc_owner',
      });
      const all = await db.asSuperuser<{ qual: string; with_check: string; roles: string[] | string }>(
        `select qual, with_check, roles from pg_policies where schemaname || '.' || tablename = $1`,
        [table.name],
      );
      const rolesOf = (p: { roles: string[] | string }) =>
        Array.isArray(p.roles) ? p.roles : String(p.roles).replace(/[{}]/g, '').split(',');
      // Exactly one policy reaches the application role: the tenant one. The only other kind allowed
      // is for the owner role behind a SECURITY DEFINER function: the outbox relay's claim, and the
      // audit checkpointer's read of chain heads.
      const policies = all.filter((p) => !rolesOf(p).every((r) => r === 'widgetdc_owner'));
      const ownerOnly = all.filter((p) => rolesOf(p).every((r) => r === 'widgetdc_owner'));
      expect({ table: table.name, ownerOnly: ownerOnly.length }).toEqual({
        table: table.name,
        // owner-only read policies behind security-definer functions: the relay, the audit chain heads,
        // the approvals expiry sweep (tenants with expired requests), re-embedding (tenants with
        // chunks on another model) and the platform kill switch (tenants with active tasks)
        ownerOnly: [
          'platform.outbox',
          'audit.audit_events',
          'governance.approval_requests',
          'knowledge.chunks',
          'agent.tasks',
        ].includes(table.name)
          ? 1
          : 0,
      });
      expect(policies.length).toBe(1);
      expect(policies[0]?.qual).toMatch(/current_setting\('app\.tenant_id'/);
      expect(policies[0]?.with_check).toMatch(/current_setting\('app\.tenant_id'/);
      // The tenant column leads some index (the primary key for tenants and kill switches).
      const leading = await db.asSuperuser<{ column: string }>(
        `select a.attname as column from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
          where i.indrelid = $1`,
        [table.oid],
      );
      const tenantColumn = table.name === 'platform.tenants' ? 'id' : 'tenant_id';
      expect({ table: table.name, indexed: leading.some((c) => c.column === tenantColumn) }).toEqual({
        table: table.name,
        indexed: true,
      });
    }
  });

  it('keep the platform-wide kill switch readable by every tenant and writable only by its functions', async () => {
    for (const name of PLATFORM_WIDE_TABLES) {
      const [table] = await db.asSuperuser<{ rls: boolean; forced: boolean; owner: string; rows: number }>(
        `select c.relrowsecurity as rls, c.relforcerowsecurity as forced, pg_get_userbyid(c.relowner) as owner
           from pg_class c where c.oid = $1::regclass`,
        [name],
      );
      expect({ name, ...table }).toEqual({ name, rls: true, forced: true, owner: 'widgetdc_owner' });
      const policies = await db.asSuperuser<{ cmd: string; qual: string; roles: string[] | string }>(
        `select cmd, qual, roles from pg_policies where schemaname || '.' || tablename = $1 order by cmd`,
        [name],
      );
      const rolesOf = (p: { roles: string[] | string }) =>
        Array.isArray(p.roles) ? p.roles : String(p.roles).replace(/[{}]/g, '').split(',');
      expect(policies.map((p) => ({ cmd: p.cmd, qual: p.qual, roles: rolesOf(p) }))).toEqual([
        { cmd: 'ALL', qual: 'true', roles: ['widgetdc_owner'] },
        { cmd: 'SELECT', qual: 'true', roles: ['public'] },
      ]);
      const [privileges] = await db.asSuperuser<Record<string, boolean>>(
        `select has_table_privilege('widgetdc_app', $1, 'SELECT') as select,
                has_table_privilege('widgetdc_app', $1, 'INSERT') as insert,
                has_table_privilege('widgetdc_app', $1, 'UPDATE') as update,
                has_table_privilege('widgetdc_app', $1, 'DELETE') as delete`,
        [name],
      );
      expect({ name, ...privileges }).toEqual({
        name,
        select: true,
        insert: false,
        update: false,
        delete: false,
      });
      const [{ n }] = (await db.asSuperuser<{ n: number }>(`select count(*)::int as n from ${name}`)) as [
        { n: number },
      ];
      expect({ name, rows: n }).toEqual({ name, rows: 1 });
    }
  });

  // Observability tables are written by shared code in every process and read by the audit subgraph
  // (ADR 0024, 0037, 0038, 0039); swept only by their SECURITY DEFINER functions, which act through the
  // owner's retention policy (ownerOnly).
  const OBSERVABILITY_TABLES: Record<
    string,
    { ownerOnly: number; update: boolean; policy?: string; indexed?: true }
  > = {
    'observability.spans': { ownerOnly: 1, update: false },
    'observability.generations': { ownerOnly: 1, update: false },
    'observability.token_usage': { ownerOnly: 0, update: true },
    'observability.token_budgets': { ownerOnly: 0, update: true },
    'observability.eval_runs': {
      ownerOnly: 0,
      update: false,
      policy: 'tenant_isolation',
      indexed: true,
    },
    'observability.eval_results': {
      ownerOnly: 0,
      update: false,
      policy: 'tenant_isolation',
      indexed: true,
    },
    'observability.prompts': { ownerOnly: 0, update: false, policy: 'tenant_isolation' },
  };

  it.each(Object.entries(OBSERVABILITY_TABLES))(
    'keep %s per tenant: forced RLS, one tenant policy, only the grants it needs',
    async (name, { ownerOnly, update, policy, indexed }) => {
      const [table] = await db.asSuperuser<{ rls: boolean; forced: boolean; owner: string }>(
        `select c.relrowsecurity as rls, c.relforcerowsecurity as forced, pg_get_userbyid(c.relowner) as owner
           from pg_class c where c.oid = $1::regclass`,
        [name],
      );
      expect({ name, ...table }).toEqual({ name, rls: true, forced: true, owner: 'widgetdc_owner' });
      const policies = await db.asSuperuser<{
        policyname: string;
        qual: string;
        with_check: string | null;
        roles: string[] | string;
      }>(
        `select policyname, qual, with_check, roles from pg_policies where schemaname || '.' || tablename = $1`,
        [name],
      );
      const rolesOf = (p: { roles: string[] | string }) =>
        Array.isArray(p.roles) ? p.roles : String(p.roles).replace(/[{}]/g, '').split(',');
      const tenant = policies.filter((p) => !rolesOf(p).every((r) => r === 'widgetdc_owner'));
      expect({ name, tenant: tenant.length, ownerOnly: policies.length - tenant.length }).toEqual({
        name,
        tenant: 1,
        ownerOnly,
      });
      if (policy) expect(tenant[0]?.policyname).toBe(policy);
      expect(tenant[0]?.qual).toMatch(/current_setting\('app\.tenant_id'/);
      expect(tenant[0]?.with_check).toMatch(/current_setting\('app\.tenant_id'/);
      const [privileges] = await db.asSuperuser<Record<string, boolean>>(
        `select has_table_privilege('widgetdc_app', $1, 'SELECT') as select,
                has_table_privilege('widgetdc_app', $1, 'INSERT') as insert,
                has_table_privilege('widgetdc_app', $1, 'UPDATE') as update,
                has_table_privilege('widgetdc_app', $1, 'DELETE') as delete,
                has_table_privilege('widgetdc_app', $1, 'TRUNCATE') as truncate`,
        [name],
      );
      expect({ name, ...privileges }).toEqual({
        name,
        select: true,
        insert: true,
        update,
        delete: false,
        truncate: false,
      });
      if (indexed) {
        const leading = await db.asSuperuser<{ column: string }>(
          `select a.attname as column from pg_index i
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
            where i.indrelid = $1::regclass`,
          [name],
        );
        expect({ name, indexed: leading.some((c) => c.column === 'tenant_id') }).toEqual({
          name,
          indexed: true,
        });
      }
    },
  );

  it('sweep observability rows only through SECURITY DEFINER functions of the owner', async () => {
    const sweepers = await db.asSuperuser<{ name: string; definer: boolean; owner: string }>(
      `select p.proname as name, p.prosecdef as definer, pg_get_userbyid(p.proowner) as owner
         from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'observability' order by 1`,
    );
    expect(sweepers).toEqual(
      expect.arrayContaining([
        { name: 'sweep_generations', definer: true, owner: 'widgetdc_owner' },
        { name: 'sweep_spans', definer: true, owner: 'widgetdc_owner' },
      ]),
    );
  });

  it('give the application role no ownership and no BYPASSRLS', async () => {
    const [role] = await db.asSuperuser<{ rolsuper: boolean; rolbypassrls: boolean; owned: number }>(
      `select rolsuper, rolbypassrls, (select count(*)::int from pg_class where relowner = r.oid) as owned
         from pg_roles r where rolname = 'widgetdc_app'`,
    );
    expect(role).toEqual({ rolsuper: false, rolbypassrls: false, owned: 0 });
  });

  it('store embeddings in a vector(512) column (EMBEDDINGS_DIMENSIONS) with an HNSW cosine index', async () => {
    const [column] = await db.asSuperuser<{ type: string }>(
      `select format_type(atttypid, atttypmod) as type from pg_attribute
        where attrelid = 'knowledge.chunks'::regclass and attname = 'embedding'`,
    );
    expect(column?.type).toBe('vector(512)');
    const [index] = await db.asSuperuser<{ indexdef: string }>(
      `select indexdef from pg_indexes where schemaname = 'knowledge' and indexname = 'chunks_embedding_hnsw_idx'`,
    );
    expect(index?.indexdef).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
  });
  it('key prompt versions by tenant, name and version (immutable rows)', async () => {
    const [key] = await db.asSuperuser<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint
        where conrelid = 'observability.prompts'::regclass and contype = 'p'`,
    );
    expect(key?.def).toBe('PRIMARY KEY (tenant_id, name, version)');
  });
});
