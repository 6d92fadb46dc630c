// A throw-away embedded database in its own process, for tests: PGlite's WASM runs at full
// speed outside Jest's module sandbox. Speaks a tiny IPC protocol with test-database.ts.
import { startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { migrate } from '#kernel/db/migrate.ts';

/** A request from the test: run SQL as the superuser, or apply migrations again. */
type Request = { id: number; sql: string; params: unknown[] } | { id: number; migrate: true };

const db = await startEmbeddedDatabase();
await migrate({ url: db.url });
await db.seal();

process.on('message', async (request: Request) => {
  try {
    await db.pglite.exec('set session authorization postgres');
    if ('migrate' in request) {
      process.send?.({ id: request.id, result: await migrate({ url: db.url }) });
    } else {
      process.send?.({ id: request.id, result: (await db.pglite.query(request.sql, request.params)).rows });
    }
  } catch (error) {
    process.send?.({ id: request.id, error: error instanceof Error ? error.message : String(error) });
  } finally {
    await db.seal();
  }
});
process.once('disconnect', () => {
  void db.close().then(() => process.exit(0));
});
process.send?.({ type: 'ready', url: db.url });
