import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { ConflictError, ValidationError } from '#kernel/errors.ts';
import { requestLiveBackup } from './live.ts';
import { assertRestored, type BackupManifest, readState, writeManifest } from './manifest.ts';

/**
 * Backs up the embedded database: a copy of PGlite's data folder (gzipped tar). While `npm start`
 * runs, the process that holds the folder makes the copy (`live.ts`); otherwise this process opens
 * the folder and copies it, so no write can land in the middle. Any other holder (a migration, say)
 * is refused, naming it.
 */
export async function backupEmbedded(options: {
  dataDir: string;
  file: string;
  log: (line: string) => void;
}): Promise<BackupManifest> {
  const { dataDir, file, log } = options;
  if (!existsSync(join(dataDir, 'pgdata'))) {
    throw new ValidationError(`${dataDir} holds no embedded database (no pgdata folder): nothing to back up`);
  }
  const live = await requestLiveBackup(dataDir, file, log);
  if (live) return live;
  // Refuses (naming the process) while another process holds the folder.
  const db = await startEmbeddedDatabase({ dataDir });
  try {
    log(`reading the embedded database in ${dataDir}`);
    const state = await readState(db.pglite);
    log(`copying its data folder (${Object.values(state.rows).reduce((a, b) => a + b, 0)} rows)`);
    const blob = await db.pglite.dumpDataDir('gzip');
    await writeFile(file, Buffer.from(await blob.arrayBuffer()));
    return await writeManifest(file, 'pglite-datadir', state);
  } finally {
    await db.close();
  }
}

/** Restores an embedded backup into a data folder that holds no database yet, then checks it. */
export async function restoreEmbedded(options: {
  dataDir: string;
  file: string;
  /** The backup's manifest, its checksum already checked (`checkedManifest`). */
  manifest: BackupManifest;
  log: (line: string) => void;
}): Promise<{ manifest: BackupManifest; restoredRows: number }> {
  const { dataDir, file, manifest, log } = options;
  const target = join(dataDir, 'pgdata');
  if (existsSync(target) && (await readdir(target)).length > 0) {
    throw new ConflictError(
      `${dataDir} already holds an embedded database: restore into another folder (WIDGETDC_DATA_DIR=<new folder> npm run restore -- ${file}) so nothing stored is lost`,
    );
  }
  await mkdir(dataDir, { recursive: true });
  log(`restoring ${file} (taken ${manifest.takenAt}, schema ${manifest.schemaVersion}) into ${dataDir}`);
  const pglite = await PGlite.create({
    dataDir: target,
    loadDataDir: new Blob([await readFile(file)]),
    extensions: { vector },
  });
  try {
    return { manifest, restoredRows: await assertRestored(pglite, manifest) };
  } finally {
    await pglite.close();
  }
}
