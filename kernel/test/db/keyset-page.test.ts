import { randomUUID } from 'node:crypto';
import { defineEntity, type EntityRepository, type MikroORM, p } from '@mikro-orm/postgresql';
import { keysetPage } from '#kernel/db/keyset-page.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

// A table of the migrations, seen through a test entity: the helper knows no domain.
const RowSchema = defineEntity({
  name: 'PagedRow',
  schema: 'agent',
  tableName: 'tasks',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    title: p.text(),
    status: p.text(),
    createdAt: p.datetime(3),
  },
});
class Row extends RowSchema.class {}
RowSchema.setClass(Row);

const tenant = randomUUID();
let db: TestDatabase;
let orm: MikroORM;
/** Titles newest first by (created_at desc, id desc), as the database orders them. */
let expected: string[];

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.appUrl, entities: [RowSchema] });
  await withTenant(orm, tenant, async (em) => {
    await em.execute('insert into platform.tenants (id, slug, display_name) values (?, ?, ?)', [
      tenant,
      'k',
      'k',
    ]);
    // Seven rows, three of them sharing one timestamp: the id must break the tie.
    const times = [1, 2, 2, 2, 3, 4, 5].map((s) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)));
    for (const [i, at] of times.entries()) {
      await em.execute(
        `insert into agent.tasks (id, tenant_id, title, status, created_by, created_by_name, created_at, updated_at)
         values (?, ?, ?, ?, ?, 'tester', ?, ?)`,
        [randomUUID(), tenant, `row ${i}`, i % 2 === 0 ? 'PENDING' : 'RUNNING', randomUUID(), at, at],
      );
    }
    const rows = await em.execute<{ title: string }[]>(
      'select title from agent.tasks order by created_at desc, id desc',
    );
    expected = rows.map((r) => r.title);
  });
});

afterAll(async () => {
  await orm?.close();
  await db?.close();
});

/** Walks the whole list `first` rows at a time through cursors, as a client does. */
async function walk(first: number, where?: object): Promise<{ titles: string[]; pages: number }> {
  const titles: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page = parsePageArgs({ first, after });
    const connection = await withTenant(orm, tenant, async (em) => {
      const rows = await keysetPage<Row>(em.getRepository(Row) as EntityRepository<Row>, page, { where });
      return toConnection(rows, page, (row) => ({ at: row.createdAt, id: row.id }));
    });
    pages += 1;
    titles.push(...connection.edges.map((e) => e.node.title));
    if (!connection.pageInfo.hasNextPage) return { titles, pages };
    after = connection.pageInfo.endCursor;
  }
}

describe('keyset pages', () => {
  it('returns every row once, newest first, ties broken by id, across page boundaries', async () => {
    expect(expected).toHaveLength(7);
    for (const first of [1, 2, 3, 7, 100]) {
      const { titles, pages } = await walk(first);
      expect(titles).toEqual(expected);
      expect(pages).toBe(Math.max(1, Math.ceil(7 / first)));
    }
  });

  it('applies further conditions to every page', async () => {
    const { titles } = await walk(2, { status: 'RUNNING' });
    expect(titles).toEqual(expected.filter((t) => Number(t.split(' ')[1]) % 2 === 1));
    expect(titles).toHaveLength(3);
  });
});
