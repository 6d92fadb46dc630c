import type { MikroORM } from '@mikro-orm/postgresql';
import { createOrm } from '#kernel/db/orm.ts';
import { isSingleSession } from '#kernel/db/single-session.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

let db: TestDatabase;
let orm: MikroORM;

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await createOrm({ url: db.appUrl, entities: [], poolMax: 2 });
}, 60_000);
afterAll(async () => {
  await orm?.close();
  await db?.close();
});

describe('isSingleSession', () => {
  it('is true exactly on the embedded PGlite', async () => {
    expect(await isSingleSession(orm.em.fork())).toBe(db.kind === 'pglite');
  });
});
