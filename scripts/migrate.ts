// npm run migrate: applies migrations/ to MIGRATION_DATABASE_URL (or DATABASE_URL), or to the
// embedded database in WIDGETDC_DATA_DIR when neither is set.
import { loadConfig } from '#kernel/config.ts';
import { startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { migrate } from '#kernel/db/migrate.ts';
import { createLogger } from '#kernel/logger.ts';

const config = loadConfig();
const logger = createLogger('migrate', config.log);
try {
  if (config.database.migrationUrl) {
    await migrate({
      url: config.database.migrationUrl,
      logger,
      appPassword: process.env.DATABASE_APP_PASSWORD,
    });
  } else {
    logger.info(`embedded database in ${config.dataDir}`);
    const db = await startEmbeddedDatabase({ dataDir: config.dataDir });
    try {
      await migrate({ url: db.url, logger });
    } finally {
      await db.close();
    }
  }
} catch (error) {
  logger.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
