import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { int, postgresUrl, text } from './env.ts';

/** Default pool size per service process. */
export const DEFAULT_DB_POOL_MAX = 10;
/** Default data folder of the embedded database and the dev issuer's keys. */
export const DEFAULT_DATA_DIR = '.data';

/** Where the database is, who migrates it, and how many connections a process opens. */
export interface DatabaseConfig {
  /** Where services connect, as the application role. Absent: the embedded PGlite. */
  url: string | undefined;
  /** Where migrations run, as a role that may create roles and schemas. Defaults to `url`. */
  migrationUrl: string | undefined;
  poolMax: number;
}

/** `DATABASE_URL`, `MIGRATION_DATABASE_URL`, `DB_POOL_MAX`, `WIDGETDC_DATA_DIR`. */
export const databaseSchema = z
  .object({
    DATABASE_URL: postgresUrl(),
    MIGRATION_DATABASE_URL: postgresUrl(),
    DB_POOL_MAX: int(DEFAULT_DB_POOL_MAX, 1, 200),
    WIDGETDC_DATA_DIR: text(),
  })
  .transform((env) => {
    const dataDir = env.WIDGETDC_DATA_DIR ?? DEFAULT_DATA_DIR;
    const database: DatabaseConfig = {
      url: env.DATABASE_URL,
      migrationUrl: env.MIGRATION_DATABASE_URL ?? env.DATABASE_URL,
      poolMax: env.DB_POOL_MAX,
    };
    return { database, dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir) };
  });
