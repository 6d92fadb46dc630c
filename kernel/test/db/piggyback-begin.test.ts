// The piggybacking client must save BEGIN's round trip without ever letting a statement run
// outside the transaction it belongs to, and without leaking a held BEGIN to the pool's next user.
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createOrm } from '#kernel/db/orm.ts';
import { createPiggybackPool, HOLD, PiggybackBeginClient } from '#kernel/db/piggyback-begin.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

let db: TestDatabase;
let orm: MikroORM;
const tenantId = randomUUID();
const OUTSIDE_A_TRANSACTION = /can only be used in transaction blocks/;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.asSuperuser('create table public.piggyback (n int not null)');
  await db.asSuperuser('grant select, insert on public.piggyback to widgetdc_app');
  orm = await createOrm({ url: db.appUrl, entities: [] });
  await withTenant(orm, tenantId, (em) =>
    em.execute('insert into platform.tenants (id, slug, display_name) values (?, ?, ?)', [
      tenantId,
      'piggy',
      'Piggy',
    ]),
  );
});
afterAll(async () => {
  await orm?.close();
  await db?.close();
});

/** A connected client whose socket writes are counted. */
async function countingClient(): Promise<{ client: PiggybackBeginClient; writes: () => number }> {
  const client = new PiggybackBeginClient({ connectionString: db.appUrl });
  await client.connect();
  const stream = client.connection.stream as { write: (...args: unknown[]) => boolean };
  const write = stream.write.bind(stream);
  let writes = 0;
  stream.write = (...args: unknown[]) => {
    writes++;
    return write(...args);
  };
  return { client, writes: () => writes };
}

const rows = async () =>
  (await db.asSuperuser<{ n: number }>('select n from public.piggyback order by n')).map((r) => r.n);

describe('piggybacked BEGIN', () => {
  afterEach(() => db.asSuperuser('truncate public.piggyback'));

  it('sends BEGIN with the first statement: one write instead of two', async () => {
    const { client, writes } = await countingClient();
    try {
      await client.query('begin');
      expect(writes()).toBe(0);
      expect(client.holdsBegin).toBe(true);
      const result = await client.query('select 41 + 1 as answer');
      expect(result.rows).toEqual([{ answer: 42 }]);
      expect(writes()).toBe(1);
      // the transaction is open: a savepoint works, and a rollback undoes the insert
      await client.query('savepoint s');
      await client.query('insert into public.piggyback values (1)');
      await client.query('rollback');
      expect(await rows()).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('holds a marked statement too, sending it with the first statement: the tenant set in one write', async () => {
    const { client, writes } = await countingClient();
    const setting = `${HOLD}select set_config('app.tenant_id', '${tenantId}', true)`;
    try {
      await client.query('begin');
      await client.query(setting);
      expect(writes()).toBe(0);
      const simple = await client.query("select current_setting('app.tenant_id') as tenant");
      expect(simple.rows).toEqual([{ tenant: tenantId }]);
      expect(writes()).toBe(1);
      await client.query('commit');
      // a statement with parameters first: what is held goes ahead of it as one more message
      const check = "select current_setting('app.tenant_id', true) = $1 as same";
      let before = writes();
      expect((await client.query(check, [tenantId])).rows).toEqual([{ same: false }]);
      const alone = writes() - before;
      await client.query('begin');
      await client.query(setting);
      before = writes();
      expect((await client.query(check, [tenantId])).rows).toEqual([{ same: true }]);
      expect(writes() - before).toBe(alone + 1);
      await client.query('rollback');
      // the setting was local to those transactions
      const after = await client.query("select current_setting('app.tenant_id', true) as tenant");
      expect(after.rows[0].tenant ?? '').toBe('');
    } finally {
      await client.end();
    }
  });

  it('sends nothing at all for a transaction with no statement', async () => {
    const { client, writes } = await countingClient();
    try {
      await client.query('begin');
      await client.query('commit');
      await client.query('begin');
      await client.query('rollback');
      expect(writes()).toBe(0);
      // and the connection is not left in a transaction
      await expect(client.query('savepoint s')).rejects.toThrow(OUTSIDE_A_TRANSACTION);
    } finally {
      await client.end();
    }
  });

  it('sends BEGIN ahead of a first statement with parameters, inside the same transaction', async () => {
    const { client } = await countingClient();
    try {
      await client.query('begin');
      await client.query('insert into public.piggyback values ($1)', [7]);
      await client.query('rollback');
      expect(await rows()).toEqual([]);
      await client.query('begin');
      await client.query({ text: 'insert into public.piggyback values ($1)', values: [8] });
      await client.query('commit');
      expect(await rows()).toEqual([8]);
    } finally {
      await client.end();
    }
  });

  it('rolls back everything when the first statement fails', async () => {
    const { client } = await countingClient();
    try {
      await client.query('begin');
      await expect(client.query('insert into public.piggyback values (null)')).rejects.toThrow(
        /null value in column "n"/,
      );
      await expect(client.query('insert into public.piggyback values (1)')).rejects.toThrow(
        /current transaction is aborted/,
      );
      await client.query('rollback');
      expect(await rows()).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it('forgets a held BEGIN when the client goes back to the pool', async () => {
    const pool = createPiggybackPool({ connectionString: db.appUrl, max: 1 });
    try {
      const first = await pool.connect();
      await first.query('begin');
      first.release();
      const second = await pool.connect();
      expect(second).toBe(first); // the same connection, with max 1
      try {
        await expect(second.query('savepoint s')).rejects.toThrow(OUTSIDE_A_TRANSACTION);
      } finally {
        second.release();
      }
    } finally {
      await pool.end();
    }
  });

  it('carries tenant transactions: commits, rolls back, and isolates tenants', async () => {
    await withTenant(orm, tenantId, (em) =>
      em.execute(
        "insert into agent.tasks (id, tenant_id, title, created_by, created_by_name, created_at, updated_at) values (?, ?, 'kept', ?, 't', now(), now())",
        [randomUUID(), tenantId, randomUUID()],
      ),
    );
    await expect(
      withTenant(orm, tenantId, async (em) => {
        await em.execute(
          "insert into agent.tasks (id, tenant_id, title, created_by, created_by_name, created_at, updated_at) values (?, ?, 'undone', ?, 't', now(), now())",
          [randomUUID(), tenantId, randomUUID()],
        );
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const titles = await withTenant(orm, tenantId, (em) =>
      em.execute<{ title: string }[]>('select title from agent.tasks'),
    );
    expect(titles.map((t) => t.title)).toEqual(['kept']);
    const otherTenant = await withTenant(orm, randomUUID(), (em) =>
      em.execute<{ n: number }[]>('select count(*)::int as n from agent.tasks'),
    );
    expect(otherTenant[0]?.n).toBe(0);
  });
});
