// A throw-away embedded database in its own process, for tests: PGlite's WASM runs at full
// speed outside Jest's module sandbox. Speaks a tiny IPC protocol with test-database.ts.
import { startEmbeddedDatabase } from '../db/embedded-database.ts';
import { migrate } from '../db/migrate.ts';

interface SuperuserQuery {
  id: number;
  sql: string;
  params: unknown[];
}

const db = await startEmbeddedDatabase();
await migrate({ url: db.url });
await db.seal();

process.on('message', async (query: SuperuserQuery) => {
  try {
    await db.pglite.exec('set session authorization postgres');
    const rows = (await db.pglite.query(query.sql, query.params)).rows;
    process.send?.({ id: query.id, rows });
  } catch (error) {
    process.send?.({ id: query.id, error: error instanceof Error ? error.message : String(error) });
  } finally {
    await db.seal();
  }
});
process.once('disconnect', () => {
  void db.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', url: db.url });
