import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Migration, Migrator } from '@mikro-orm/migrations';
import { type Constructor, MikroORM } from '@mikro-orm/postgresql';
import type { Logger } from '../logger.ts';
import { APP_ROLE } from './roles.ts';

/** Where the platform's migrations are (the repository's `migrations/` folder). */
export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', '..', 'migrations');
/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'platform.mikro_orm_migrations';

const FILE_NAME = /^(Migration\d{14}_[a-z0-9_]+)\.ts$/;

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** A role that may create roles, schemas and extensions (superuser on most servers). */
  url: string;
  dir?: string;
  logger?: Logger;
  /** Sets the application role's login password (real servers with password authentication). */
  appPassword?: string;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

type MigrationClass = Constructor<Migration>;

/** Loads the migrations of `dir`, ordered by their timestamped names. */
export async function loadMigrations(
  dir = MIGRATIONS_DIR,
): Promise<{ name: string; class: MigrationClass }[]> {
  const files = (await readdir(dir)).filter((f) => FILE_NAME.test(f)).sort();
  const list = [];
  for (const file of files) {
    const name = FILE_NAME.exec(file)![1]!;
    const module = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, MigrationClass>;
    const migration = module[name];
    if (typeof migration !== 'function') throw new Error(`${file} must export a class named ${name}`);
    list.push({ name, class: migration });
  }
  return list;
}

/**
 * Applies pending migrations one at a time, each in its own transaction, printing progress. A
 * session-level advisory lock keeps two migrators from racing on the same database.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const log = options.logger;
  const migrationsList = await loadMigrations(options.dir);
  const orm = await MikroORM.init({
    clientUrl: options.url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    pool: { min: 1, max: 1 },
    migrations: {
      tableName: MIGRATIONS_TABLE,
      migrationsList,
      snapshot: false,
      silent: true,
      allOrNothing: false,
    },
  });
  try {
    const connection = orm.em.getConnection();
    await connection.execute(`select pg_advisory_lock(hashtext('widgetdc.migrate'))`);
    try {
      const migrator = orm.migrator;
      const pending = await migrator.getPending();
      const executed = await migrator.getExecuted();
      log?.info(`${executed.length} applied, ${pending.length} pending`);
      const applied: string[] = [];
      for (const [index, migration] of pending.entries()) {
        const started = performance.now();
        await migrator.up({ migrations: [migration.name] });
        applied.push(migration.name);
        log?.info(
          `${index + 1}/${pending.length} ${migration.name} (${Math.round(performance.now() - started)} ms)`,
        );
      }
      if (options.appPassword !== undefined) {
        const escaped = options.appPassword.replaceAll("'", "''");
        await connection.execute(`alter role ${APP_ROLE} login password '${escaped}'`);
        log?.info(`set the login password of ${APP_ROLE}`);
      }
      return { applied, alreadyApplied: executed.length };
    } finally {
      await connection.execute(`select pg_advisory_unlock(hashtext('widgetdc.migrate'))`);
    }
  } finally {
    await orm.close(true);
  }
}
