import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type MigrateResult, migrate } from '#kernel/db/migrate.ts';
import { APP_ROLE } from '#kernel/db/roles.ts';

/** The database kinds the test suites run against. */
export type TestDatabaseKind = 'pglite' | 'postgres' | 'container';

/** A migrated, throw-away database for one test file. */
export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  /** Connects as the application role: owns nothing, no BYPASSRLS. */
  readonly appUrl: string;
  /**
   * Runs `sql` with the privileges of a superuser (setup and tampering in tests). On PGlite the
   * one shared session is switched to the superuser and back, in the database's own process.
   */
  asSuperuser<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Applies the migrations again (they ran once at creation). */
  migrate(): Promise<MigrateResult>;
  /** A superuser URL for migrations; absent on PGlite, whose one session is sealed. */
  readonly migrationUrl: string | undefined;
  close(): Promise<void>;
}

/** The database kind of the running Jest project (`globals.WIDGETDC_TEST_DB`). */
export function testDatabaseKind(): TestDatabaseKind {
  const kind = (globalThis as { WIDGETDC_TEST_DB?: string }).WIDGETDC_TEST_DB ?? process.env.WIDGETDC_TEST_DB;
  if (kind === 'postgres' || kind === 'container') return kind;
  return 'pglite';
}

/** The native server tests create their databases on. */
export const NATIVE_ADMIN_URL =
  process.env.WIDGETDC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates a migrated database of the current project's kind. */
export async function createTestDatabase(kind = testDatabaseKind()): Promise<TestDatabase> {
  if (kind === 'pglite') return createPgliteDatabase();
  if (kind === 'postgres') return createServerDatabase('postgres', NATIVE_ADMIN_URL, async () => {});
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('pgvector/pgvector:pg17').start();
  return createServerDatabase('container', container.getConnectionUri(), async () => {
    await container.stop();
  });
}

async function createPgliteDatabase(): Promise<TestDatabase> {
  const child = fork(fileURLToPath(new URL('./pglite-process.ts', import.meta.url)), [], {
    execPath: process.execPath,
    execArgv: [],
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>();
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the PGlite test process exited (${code})`)));
    child.on(
      'message',
      (message: { type?: string; url?: string; id?: number; result?: unknown; error?: string }) => {
        if (message.type === 'ready' && message.url) return resolve(message.url);
        const waiter = message.id === undefined ? undefined : pending.get(message.id);
        if (!waiter) return;
        pending.delete(message.id!);
        if (message.error) waiter.reject(new Error(message.error));
        else waiter.resolve(message.result);
      },
    );
  });
  let nextId = 0;
  const call = <T>(request: Record<string, unknown>) => {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      child.send({ id, ...request });
    });
  };
  return {
    kind: 'pglite',
    appUrl: url,
    migrationUrl: undefined,
    asSuperuser: <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      call<T[]>({ sql, params }),
    migrate: () => call<MigrateResult>({ migrate: true }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

async function createServerDatabase(
  kind: 'postgres' | 'container',
  adminUrl: string,
  stopServer: () => Promise<void>,
): Promise<TestDatabase> {
  const name = `wtdc_test_${randomBytes(6).toString('hex')}`;
  await withClient(adminUrl, (c) => c.query(`create database ${name}`));
  const dbAdminUrl = withDatabase(adminUrl, name);
  // The foundation migration alters the cluster-wide roles: two suites migrating their databases at
  // once fail with "tuple concurrently updated". The migrator's own lock is per database, so the
  // suites of every process take this one, in the admin database, around their migration.
  await withClient(adminUrl, async (c) => {
    await c.query(`select pg_advisory_lock(hashtext('widgetdc.test-migrate'))`);
    try {
      await migrate({ url: dbAdminUrl });
    } finally {
      await c.query(`select pg_advisory_unlock(hashtext('widgetdc.test-migrate'))`);
    }
  });
  const appUrl = new URL(dbAdminUrl);
  appUrl.username = APP_ROLE;
  appUrl.password = '';
  return {
    kind,
    appUrl: appUrl.toString(),
    migrationUrl: dbAdminUrl,
    migrate: () => migrate({ url: dbAdminUrl }),
    asSuperuser: <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []) =>
      withClient(dbAdminUrl, async (c) => (await c.query<T>(sql, params)).rows),
    async close() {
      await withClient(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
      await stopServer();
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
