import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type pg from 'pg';
import { MIGRATIONS_TABLE } from '#kernel/db/migrate.ts';
import { PLATFORM_SCHEMAS } from '#kernel/db/roles.ts';
import { ValidationError } from '#kernel/errors.ts';

/** Where one tenant's audit chain ended when the backup was taken. */
export interface ChainHead {
  readonly tenantId: string;
  readonly seq: number;
  readonly hash: string;
}

/** What a backup holds, written beside it and checked by the restore. */
export interface BackupManifest {
  readonly format: 'pg_dump-custom' | 'pglite-datadir';
  readonly file: string;
  readonly takenAt: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly serverVersion: string;
  /** The newest applied migration (the schema version). */
  readonly schemaVersion: string;
  readonly migrations: number;
  readonly chainHeads: readonly ChainHead[];
  /** Rows of every table of the platform's schemas (`schema.table` → rows). */
  readonly rows: Readonly<Record<string, number>>;
}

/** Anything that runs SQL: a pg client or PGlite. */
export interface Queryable {
  query<R>(sql: string): Promise<{ rows: R[] }>;
}

/** The state a manifest records, read in the caller's transaction (its snapshot is the backup's). */
export async function readState(
  db: Queryable | pg.ClientBase,
): Promise<Pick<BackupManifest, 'serverVersion' | 'schemaVersion' | 'migrations' | 'chainHeads' | 'rows'>> {
  const q = db as Queryable;
  const [{ version }] = (
    await q.query<{ version: string }>(`select current_setting('server_version') as version`)
  ).rows as [{ version: string }];
  const migrations = (await q.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE} order by id`))
    .rows;
  const heads = (
    await q.query<{ tenant_id: string; seq: string | number; hash: string }>(
      `select distinct on (tenant_id) tenant_id, seq, hash from audit.audit_events order by tenant_id, seq desc`,
    )
  ).rows.map((r) => ({ tenantId: r.tenant_id, seq: Number(r.seq), hash: r.hash }));
  const tables = (
    await q.query<{ name: string }>(
      `select table_schema || '.' || table_name as name from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema in (${PLATFORM_SCHEMAS.map((s) => `'${s}'`).join(', ')})
        order by 1`,
    )
  ).rows.map((r) => r.name);
  const rows: Record<string, number> = {};
  for (const table of tables) {
    const [{ n }] = (await q.query<{ n: string | number }>(`select count(*) as n from ${table}`)).rows as [
      { n: string | number },
    ];
    rows[table] = Number(n);
  }
  return {
    serverVersion: version,
    schemaVersion: migrations.at(-1)?.name ?? '(none)',
    migrations: migrations.length,
    chainHeads: heads,
    rows,
  };
}

/**
 * Every audit row whose hash does not match its fields and predecessor (a chain that does not verify);
 * empty when every tenant's chain is intact.
 */
export async function brokenChainRows(db: Queryable | pg.ClientBase): Promise<string[]> {
  const { rows } = await (db as Queryable).query<{ id: string }>(`
    select id from (
      select id, hash, prev_hash, coalesce(lag(hash) over (partition by tenant_id order by seq), repeat('0', 64)) as before,
             audit.row_hash(prev_hash, id, tenant_id, seq, actor_kind, actor_id, actor, on_behalf_of, action,
                            target_type, target_id, outcome, request_id, trace_id, at, input_summary) as expected
        from audit.audit_events
    ) r
    where r.hash is distinct from r.expected or r.prev_hash is distinct from r.before`);
  return rows.map((r) => r.id);
}

/** What differs between the manifest and a restored database (empty: it is the backup). */
export function differences(
  manifest: BackupManifest,
  restored: Awaited<ReturnType<typeof readState>>,
): string[] {
  const out: string[] = [];
  if (restored.schemaVersion !== manifest.schemaVersion) {
    out.push(`schema version ${restored.schemaVersion}, the backup has ${manifest.schemaVersion}`);
  }
  for (const [table, n] of Object.entries(manifest.rows)) {
    if (restored.rows[table] !== n)
      out.push(`${table}: ${restored.rows[table] ?? 'missing'} rows, the backup has ${n}`);
  }
  const heads = new Map(restored.chainHeads.map((h) => [h.tenantId, h]));
  for (const head of manifest.chainHeads) {
    const got = heads.get(head.tenantId);
    if (got?.seq !== head.seq || got.hash !== head.hash) {
      out.push(
        `tenant ${head.tenantId}: audit chain head ${got ? `${got.seq}/${got.hash}` : 'missing'}, the backup has ${head.seq}/${head.hash}`,
      );
    }
  }
  return out;
}

/** The SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Where a backup's manifest lives: beside it. */
export const manifestPath = (file: string) => `${file}.manifest.json`;

/** Reads and checks a backup's manifest and checksum before anything is changed. */
export async function checkedManifest(file: string): Promise<BackupManifest> {
  const raw = await readFile(manifestPath(file), 'utf8').catch(() => {
    throw new ValidationError(`${manifestPath(file)} is missing: a backup is restored with its manifest`);
  });
  const manifest = JSON.parse(raw) as BackupManifest;
  const actual = await sha256File(file);
  if (actual !== manifest.sha256) {
    throw new ValidationError(
      `${file} is corrupt: its SHA-256 is ${actual}, the manifest says ${manifest.sha256}`,
    );
  }
  return manifest;
}

/** Writes the manifest of the backup in `file` beside it, from the state read with the backup's snapshot. */
export async function writeManifest(
  file: string,
  format: BackupManifest['format'],
  state: Awaited<ReturnType<typeof readState>>,
): Promise<BackupManifest> {
  const manifest: BackupManifest = {
    format,
    file: basename(file),
    takenAt: new Date().toISOString(),
    bytes: (await stat(file)).size,
    sha256: await sha256File(file),
    ...state,
  };
  await writeFile(manifestPath(file), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * Checks a restored database against the backup's manifest (schema version, every table's rows, every
 * tenant's chain head) and every audit row's hash; throws naming each difference. Returns the rows.
 */
export async function assertRestored(
  db: Queryable | pg.ClientBase,
  manifest: BackupManifest,
): Promise<number> {
  const state = await readState(db);
  const problems = [...differences(manifest, state)];
  const broken = await brokenChainRows(db);
  if (broken.length > 0) problems.push(`${broken.length} audit rows do not verify (first ${broken[0]})`);
  if (problems.length > 0)
    throw new Error(`the restored database differs from the backup:\n  ${problems.join('\n  ')}`);
  return Object.values(state.rows).reduce((a, b) => a + b, 0);
}
