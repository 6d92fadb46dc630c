// npm run backup -- [--out <file> | --dir <folder> [--keep <n>] [--every <minutes>]]
// Backs up the platform database with a manifest beside it (time, size, SHA-256, schema version, every
// table's rows, every tenant's audit chain head): a real server with pg_dump's custom format from one
// snapshot (MIGRATION_DATABASE_URL, a superuser: the application role sees one tenant at a time), or,
// without DATABASE_URL, the embedded database's data folder (copied by npm start while it runs).
// --dir names each backup by its time; --keep deletes all but the newest n there; --every repeats
// (docker-compose.yml's backup service runs `--dir /backups --keep 14 --every 1440`).
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';
import { backupEmbedded } from './lib/backup/embedded.ts';
import { backupServer } from './lib/backup/native.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'string' },
    every: { type: 'string' },
  },
});
const config = loadConfig();
const log = (line: string) => process.stdout.write(`${line}\n`);
const embedded = !config.database.url && !config.database.migrationUrl;
const suffix = embedded ? '.pglite.tar.gz' : '.dump';

function wholeNumber(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError([`--${name} must be a whole number of at least ${min} (got "${value}")`]);
  return n;
}

async function once(): Promise<void> {
  const started = Date.now();
  const name = `widgetdc-${new Date().toISOString().replace(/[:.]/g, '-')}${suffix}`;
  const file = values.out ?? join(values.dir ?? '.', name);
  const manifest = embedded
    ? await backupEmbedded({ dataDir: config.dataDir, file, log })
    : await backupServer({ url: config.database.migrationUrl!, file, log });
  const rows = Object.values(manifest.rows).reduce((a, b) => a + b, 0);
  log(
    `backup done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${file} (${(manifest.bytes / 1024 / 1024).toFixed(2)} MiB, sha256 ${manifest.sha256.slice(0, 16)}…), ` +
      `${Object.keys(manifest.rows).length} tables, ${rows} rows, schema ${manifest.schemaVersion}, ${manifest.chainHeads.length} audit chains; manifest ${file}.manifest.json`,
  );
}

/** Deletes all but the newest `keep` backups (and their manifests) of the folder. */
async function prune(dir: string, keep: number): Promise<void> {
  const backups = (await readdir(dir)).filter((f) => f.startsWith('widgetdc-') && f.endsWith(suffix)).sort();
  for (const old of backups.slice(0, Math.max(0, backups.length - keep))) {
    await rm(join(dir, old), { force: true });
    await rm(join(dir, `${old}.manifest.json`), { force: true });
    log(`deleted ${old} (keeping the newest ${keep})`);
  }
}

try {
  const keep = wholeNumber('keep', values.keep, 1);
  const every = wholeNumber('every', values.every, 1);
  if (values.out && (values.dir || keep || every))
    throw new ConfigError(['--out names one file: use --dir with --keep or --every']);
  if ((keep || every) && !values.dir) throw new ConfigError(['--keep and --every need --dir <folder>']);
  for (;;) {
    await once();
    if (keep && values.dir) await prune(values.dir, keep);
    if (!every) break;
    log(`next backup in ${every} min`);
    await new Promise((r) => setTimeout(r, every * 60_000));
  }
} catch (error) {
  process.stderr.write(`backup failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
