// npm run restore -- <backup file>
// Restores a backup made by `npm run backup` into an EMPTY target (never over data): a pg_dump backup
// into MIGRATION_DATABASE_URL's database (create it first), an embedded one into WIDGETDC_DATA_DIR (a
// folder without a database). Checks the checksum first and, after, that the schema version, every
// table's rows and every tenant's audit chain head equal the manifest and that every chain verifies.
import { parseArgs } from 'node:util';
import { loadConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';
import { restoreEmbedded } from './lib/backup/embedded.ts';
import { checkedManifest } from './lib/backup/manifest.ts';
import { restoreServer } from './lib/backup/native.ts';

const { positionals } = parseArgs({ allowPositionals: true, options: {} });
const config = loadConfig();
const log = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
try {
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new ConfigError(['usage: npm run restore -- <backup file>']);
  const checked = await checkedManifest(file);
  const { format } = checked;
  if (format === 'pg_dump-custom' && !config.database.migrationUrl) {
    throw new ConfigError([
      'MIGRATION_DATABASE_URL must name the (new, empty) database to restore this server backup into, as a superuser',
    ]);
  }
  const { manifest, restoredRows } =
    format === 'pg_dump-custom'
      ? await restoreServer({ url: config.database.migrationUrl!, file, manifest: checked, log })
      : await restoreEmbedded({ dataDir: config.dataDir, file, manifest: checked, log });
  log(
    `restore done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${restoredRows} rows in ${Object.keys(manifest.rows).length} tables, ` +
      `schema ${manifest.schemaVersion}, ${manifest.chainHeads.length} audit chains verified up to the backup's heads`,
  );
} catch (error) {
  process.stderr.write(`restore failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
