import pg from 'pg';
import { APP_ROLE, OWNER_ROLE, PLATFORM_SCHEMAS } from '#kernel/db/roles.ts';
import { ConfigError, ConflictError } from '#kernel/errors.ts';
import { assertRestored, type BackupManifest, readState, writeManifest } from './manifest.ts';
import { ensureClientTools, runTool } from './pg-tools.ts';

/**
 * What migrations change outside the platform's schemas, which pg_dump therefore does not carry:
 * re-applied after a restore. (Migration20261203133000_knowledge_search marks the full-text match
 * leakproof so that row-level security lets keyword search use its GIN index.)
 */
export const OUTSIDE_THE_DUMP = ['alter function pg_catalog.ts_match_vq(tsvector, tsquery) leakproof'];

async function serverMajor(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>(`select current_setting('server_version_num') as v`);
  return Math.floor(Number(rows[0]!.v) / 10_000);
}

/**
 * Backs up a real server with pg_dump (custom format) from one exported snapshot, so the manifest's
 * row counts and audit chain heads describe exactly what the dump holds, even while services write.
 */
export async function backupServer(options: {
  url: string;
  file: string;
  log: (line: string) => void;
}): Promise<BackupManifest> {
  const { url, file, log } = options;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: who } = await client.query<{ name: string; all: boolean }>(
      'select current_user as name, rolsuper or rolbypassrls as all from pg_roles where rolname = current_user',
    );
    if (!who[0]?.all) {
      throw new ConfigError([
        `MIGRATION_DATABASE_URL must be set for a backup of a server, as a superuser: ${who[0]?.name} is subject to row-level security and sees one tenant at a time`,
      ]);
    }
    await ensureClientTools(await serverMajor(client), log);
    await client.query('begin isolation level repeatable read read only');
    const { rows } = await client.query<{ id: string }>('select pg_export_snapshot() as id');
    const state = await readState(client);
    const tables = Object.keys(state.rows).length;
    let dumped = 0;
    log(`dumping ${tables} tables (${Object.values(state.rows).reduce((a, b) => a + b, 0)} rows) to ${file}`);
    await runTool(
      'pg_dump',
      [
        '--format=custom',
        '--verbose',
        `--snapshot=${rows[0]!.id}`,
        `--file=${file}`,
        ...PLATFORM_SCHEMAS.flatMap((s) => ['--schema', s]),
        `--dbname=${url}`,
      ],
      (line) => {
        const table = /dumping contents of table "([^"]+)"/.exec(line)?.[1];
        if (table) log(`  [${++dumped}/${tables}] ${table}`);
      },
    );
    await client.query('commit');
    return await writeManifest(file, 'pg_dump-custom', state);
  } finally {
    await client.end();
  }
}

/**
 * Restores a pg_dump backup into an empty database (one transaction: all or nothing), then checks
 * it against the manifest: schema version, every table's rows, every audit chain head, every chain.
 */
export async function restoreServer(options: {
  url: string;
  file: string;
  /** The backup's manifest, its checksum already checked (`checkedManifest`). */
  manifest: BackupManifest;
  log: (line: string) => void;
}): Promise<{ manifest: BackupManifest; restoredRows: number }> {
  const { url, file, manifest, log } = options;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await ensureClientTools(await serverMajor(client), log);
    const { rows } = await client.query<{ n: string }>(
      `select count(*) as n from information_schema.tables where table_schema = any($1)`,
      [[...PLATFORM_SCHEMAS]],
    );
    if (Number(rows[0]!.n) > 0) {
      throw new ConflictError(
        'the target database already holds WidgeTDC tables: restore into a new, empty database (createdb) so nothing stored is lost',
      );
    }
    // Roles are per cluster, not in the dump: a new cluster needs them before the objects they own.
    for (const [role, login] of [
      [OWNER_ROLE, false],
      [APP_ROLE, true],
    ] as const) {
      await client.query(
        `do $$ begin create role ${role} ${login ? 'login' : 'nologin'}; exception when duplicate_object then null; end $$`,
      );
    }
    await client.query('create extension if not exists vector');
    const tables = Object.keys(manifest.rows).length;
    let restored = 0;
    log(
      `restoring ${tables} tables from ${file} (taken ${manifest.takenAt}, schema ${manifest.schemaVersion})`,
    );
    await runTool(
      'pg_restore',
      ['--verbose', '--exit-on-error', '--single-transaction', `--dbname=${url}`, file],
      (line) => {
        const table = /processing data for table "([^"]+)"/.exec(line)?.[1];
        if (table) log(`  [${++restored}/${tables}] ${table}`);
      },
    );
    for (const statement of OUTSIDE_THE_DUMP) await client.query(statement);
    return { manifest, restoredRows: await assertRestored(client, manifest) };
  } finally {
    await client.end();
  }
}
