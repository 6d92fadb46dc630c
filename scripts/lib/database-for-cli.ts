import type { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig, type PlatformConfig } from '#kernel/config.ts';
import { startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { createOrm } from '#kernel/db/orm.ts';

/**
 * Opens the platform database for an operator command, as the application role (row-level security
 * applies): DATABASE_URL when set, else the embedded database in WIDGETDC_DATA_DIR (which must not be
 * in use by a running `npm start`).
 */
export async function openDatabaseForCli(): Promise<{
  orm: MikroORM;
  config: PlatformConfig;
  close(): Promise<void>;
}> {
  const config = loadConfig();
  if (config.database.url) {
    const orm = await createOrm({ url: config.database.url, entities: [], poolMax: 2 });
    return { orm, config, close: () => orm.close() };
  }
  const db = await startEmbeddedDatabase({ dataDir: config.dataDir });
  try {
    await db.seal();
    const orm = await createOrm({ url: db.url, entities: [], poolMax: 2 });
    return {
      orm,
      config,
      close: async () => {
        await orm.close();
        await db.close();
      },
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}
