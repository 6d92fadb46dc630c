// npm run backup / npm run restore: a backup taken while the platform writes holds exactly the rows of
// its snapshot; a restore brings them back into an empty target (never over data), with the schema at the
// backup's version, every audit chain verifying up to the backup's heads, and the consumers' ledger of
// handled events intact (a redelivered event is recognised as handled).
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { migrate } from '#kernel/db/migrate.ts';
import { APP_ROLE, TENANT_SETTING } from '#kernel/db/roles.ts';
import { createTestDatabase, NATIVE_ADMIN_URL, type TestDatabase } from '#testing/test-database.ts';
import { serveLiveBackups } from '../lib/backup/live.ts';
import type { BackupManifest } from '../lib/backup/manifest.ts';
import { brokenChainRows, readState } from '../lib/backup/manifest.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const kind = (globalThis as { WIDGETDC_TEST_DB?: string }).WIDGETDC_TEST_DB;

function run(script: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; output: string }>((done) => {
    execFile(
      join(ROOT, 'node_modules', '.bin', 'node'),
      [join(ROOT, 'scripts', script), ...args],
      { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env } },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

/** Writes as the platform does: the application role inside one tenant's transaction. */
async function write(client: pg.Client, tenantId: string, n: number, label: string): Promise<void> {
  await client.query('begin');
  await client.query(`select set_config('${TENANT_SETTING}', $1, true)`, [tenantId]);
  for (let i = 0; i < n; i++) {
    await client.query(
      `insert into audit.audit_events (id, tenant_id, actor, actor_id, action, target_type, target_id, at)
       values ($1, $2, 'alice', 'alice-id', $3, 'Note', $4, now())`,
      [randomUUID(), tenantId, `note.${label}`, `${label}-${i}`],
    );
    await client.query(
      `insert into platform.processed_events (tenant_id, consumer_group, event_id) values ($1, 'agent-approvals', $2)`,
      [tenantId, randomUUID()],
    );
  }
  await client.query('commit');
}

async function seedTenants(superuser: (sql: string, params?: unknown[]) => Promise<unknown>) {
  const tenants = [randomUUID(), randomUUID()];
  for (const [i, id] of tenants.entries()) {
    await superuser(`insert into platform.tenants (id, slug, display_name) values ($1, $2, $3)`, [
      id,
      `backup-${i}-${randomBytes(3).toString('hex')}`,
      `Backup tenant ${i}`,
    ]);
  }
  return tenants;
}

// Each suite is declared only where it applies (a server backup needs the native server, the embedded
// one PGlite), rather than skipped elsewhere.
const onServer = kind === 'postgres' ? describe : undefined;
const onEmbedded = kind === 'pglite' ? describe : undefined;

onServer?.('npm run backup / restore on a PostgreSQL server', () => {
  let source: TestDatabase;
  let dir: string;
  const targets: string[] = [];
  const admin = (sql: string) =>
    (async () => {
      const c = new pg.Client({ connectionString: NATIVE_ADMIN_URL });
      await c.connect();
      try {
        await c.query(sql);
      } finally {
        await c.end();
      }
    })();
  const urlOf = (name: string) => {
    const u = new URL(NATIVE_ADMIN_URL);
    u.pathname = `/${name}`;
    return u.toString();
  };

  beforeAll(async () => {
    source = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'wtdc-backup-'));
  });
  afterAll(async () => {
    for (const t of targets) await admin(`drop database if exists ${t} with (force)`);
    await source?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('backs up while writes continue, restores into an empty database exactly as of the backup, and never over data', async () => {
    const tenants = await seedTenants((sql, params) => source.asSuperuser(sql, params));
    const app = new pg.Client({ connectionString: source.appUrl });
    await app.connect();
    try {
      for (const t of tenants) await write(app, t, 5, 'before');
      const env = { MIGRATION_DATABASE_URL: source.migrationUrl!, DATABASE_URL: source.appUrl };
      const file = join(dir, 'platform.dump');
      // Writers keep going during the backup: the dump and its manifest come from one snapshot.
      let writing = true;
      const writer = (async () => {
        let n = 0;
        while (writing) await write(app, tenants[n++ % 2]!, 1, 'during');
      })();
      const backup = await run('backup.ts', ['--out', file], env);
      writing = false;
      await writer;
      expect(backup.output).toMatch(/\[\d+\/\d+\] audit\.audit_events/);
      expect(backup.output).toContain('backup done in');
      expect(backup.code).toBe(0);
      const manifest = JSON.parse(await readFile(`${file}.manifest.json`, 'utf8')) as BackupManifest;
      expect(manifest.format).toBe('pg_dump-custom');
      expect(manifest.chainHeads.filter((h) => (tenants as string[]).includes(h.tenantId))).toHaveLength(2);
      expect(manifest.rows['audit.audit_events']).toBeGreaterThanOrEqual(10);
      for (const t of tenants) await write(app, t, 3, 'after');

      const target = `wtdc_restore_${randomBytes(4).toString('hex')}`;
      targets.push(target);
      await admin(`create database ${target}`);
      const restored = await run('restore.ts', [file], {
        MIGRATION_DATABASE_URL: urlOf(target),
        DATABASE_URL: '',
      });
      expect(restored.output).toContain('restore done in');
      expect(restored.code).toBe(0);

      const check = new pg.Client({ connectionString: urlOf(target) });
      await check.connect();
      try {
        const state = await readState(check);
        expect(state.rows).toEqual(manifest.rows);
        expect(state.chainHeads).toEqual(manifest.chainHeads);
        expect(state.schemaVersion).toBe(manifest.schemaVersion);
        const original = new pg.Client({ connectionString: source.migrationUrl! });
        await original.connect();
        const { migrations } = await readState(original).finally(() => original.end());
        expect(state.migrations).toBe(migrations);
        expect(await brokenChainRows(check)).toEqual([]);
        // What migrations set outside the dump (keyword search's leakproof match) is there again.
        const leakproof = await check.query(`select proleakproof from pg_proc where proname = 'ts_match_vq'`);
        expect(leakproof.rows).toEqual([{ proleakproof: true }]);
        const after = await check.query(
          `select count(*)::int as n from audit.audit_events where action = 'note.after'`,
        );
        expect(after.rows[0].n).toBe(0);
        // The consumers' ledger came back with the rows: an event handled before the backup is still
        // recognised as handled (the worker's insert into the ledger conflicts and it skips the event).
        const handled = await check.query(
          `select tenant_id, event_id from platform.processed_events limit 1`,
        );
        const redelivered = await check.query(
          `insert into platform.processed_events (tenant_id, consumer_group, event_id) values ($1, 'agent-approvals', $2)
           on conflict do nothing`,
          [handled.rows[0].tenant_id, handled.rows[0].event_id],
        );
        expect(redelivered.rowCount).toBe(0);
        // The application role works on the restored database, under row-level security.
        await check.query(`alter role ${APP_ROLE} login`);
      } finally {
        await check.end();
      }

      // A second restore into the now non-empty database is refused and changes nothing.
      const again = await run('restore.ts', [file], {
        MIGRATION_DATABASE_URL: urlOf(target),
        DATABASE_URL: '',
      });
      expect(again.code).toBe(1);
      expect(again.output).toContain('already holds WidgeTDC tables: restore into a new, empty database');

      // A corrupted backup is refused before anything is touched.
      const bytes = await readFile(file);
      bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0xff;
      const bad = join(dir, 'corrupt.dump');
      await writeFile(bad, bytes);
      await writeFile(`${bad}.manifest.json`, await readFile(`${file}.manifest.json`));
      const corrupt = await run('restore.ts', [bad], {
        MIGRATION_DATABASE_URL: urlOf(target),
        DATABASE_URL: '',
      });
      expect(corrupt.code).toBe(1);
      expect(corrupt.output).toMatch(
        /corrupt\.dump is corrupt: its SHA-256 is [0-9a-f]{64}, the manifest says/,
      );
    } finally {
      await app.end();
    }
  });

  it('refuses a server backup as the application role, which sees one tenant at a time', async () => {
    const { code, output } = await run('backup.ts', ['--out', join(dir, 'x.dump')], {
      DATABASE_URL: source.appUrl,
      MIGRATION_DATABASE_URL: '',
    });
    expect(code).toBe(1);
    expect(output).toContain(
      'MIGRATION_DATABASE_URL must be set for a backup of a server, as a superuser: widgetdc_app is subject to row-level security',
    );
  });
});

/** An embedded database in `dataDir`, migrated, with two tenants (each then given to `fill`, as the superuser). */
async function migratedEmbedded(
  dataDir: string,
  fill?: (client: pg.Client, tenantId: string) => Promise<void>,
) {
  const db = await startEmbeddedDatabase({ dataDir });
  await migrate({ url: db.url });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    const tenants = await seedTenants((sql, params) => client.query(sql, params as unknown[]));
    for (const t of tenants) await fill?.(client, t);
    return { db, tenants };
  } finally {
    await client.end();
  }
}

onEmbedded?.('npm run backup / restore of the embedded database', () => {
  it('copies the data folder, restores it into an empty folder only, and refuses while another process (not npm start) holds it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wtdc-embedded-backup-'));
    try {
      const dataDir = join(dir, 'data');
      const { db } = await migratedEmbedded(dataDir, (client, t) => write(client, t, 4, 'before'));

      const env = { WIDGETDC_DATA_DIR: dataDir, DATABASE_URL: '', MIGRATION_DATABASE_URL: '' };
      const file = join(dir, 'embedded.pglite.tar.gz');
      // While a process holds the folder (as npm start does), the backup is refused naming it.
      const busy = await run('backup.ts', ['--out', file], env);
      expect(busy.code).toBe(1);
      expect(busy.output).toContain(`is in use by process ${process.pid}`);
      await db.close();

      const backup = await run('backup.ts', ['--out', file], env);
      expect(backup.output).toContain('backup done in');
      expect(backup.code).toBe(0);
      const manifest = JSON.parse(await readFile(`${file}.manifest.json`, 'utf8')) as BackupManifest;
      expect(manifest.format).toBe('pglite-datadir');
      expect(manifest.rows['audit.audit_events']).toBe(8);

      // Scheduled backups into a folder keep the newest --keep of them.
      const folder = join(dir, 'scheduled');
      await mkdir(folder);
      for (let i = 0; i < 3; i++)
        expect((await run('backup.ts', ['--dir', folder, '--keep', '2'], env)).code).toBe(0);
      const kept = (await readdir(folder)).sort();
      expect(kept).toHaveLength(4);
      expect(kept.filter((f) => f.endsWith('.pglite.tar.gz'))).toHaveLength(2);
      const wrong = await run('backup.ts', ['--keep', '0'], env);
      expect(wrong.output).toContain('--keep must be a whole number of at least 1 (got "0")');

      const into = join(dir, 'restored');
      const restored = await run('restore.ts', [file], { ...env, WIDGETDC_DATA_DIR: into });
      expect(restored.output).toContain('restore done in');
      expect(restored.code).toBe(0);
      const again = await run('restore.ts', [file], { ...env, WIDGETDC_DATA_DIR: into });
      expect(again.code).toBe(1);
      expect(again.output).toContain('already holds an embedded database: restore into another folder');

      const back = await startEmbeddedDatabase({ dataDir: into });
      try {
        const state = await readState(back.pglite);
        expect(state.rows).toEqual(manifest.rows);
        expect(state.chainHeads).toEqual(manifest.chainHeads);
        expect(await brokenChainRows(back.pglite)).toEqual([]);
      } finally {
        await back.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('backs up while npm start holds the folder and writes continue: the copy holds exactly what had committed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wtdc-live-backup-'));
    try {
      const dataDir = join(dir, 'data');
      // As npm start does: migrate, seal the session as the application role, serve backups.
      const { db, tenants } = await migratedEmbedded(dataDir);
      await db.seal();
      const stopServing = await serveLiveBackups(db, dataDir);
      const app = new pg.Client({ connectionString: db.url });
      await app.connect();
      const env = { WIDGETDC_DATA_DIR: dataDir, DATABASE_URL: '', MIGRATION_DATABASE_URL: '' };
      const file = join(dir, 'live.pglite.tar.gz');
      let manifest: BackupManifest;
      let committed: number;
      try {
        for (const t of tenants) await write(app, t, 4, 'before');
        // Writers keep going during the backup.
        let writing = true;
        let written = 8;
        const writer = (async () => {
          let n = 0;
          while (writing) {
            await write(app, tenants[n++ % 2]!, 1, 'during');
            written++;
          }
        })();
        const backup = await run('backup.ts', ['--out', file], env);
        writing = false;
        await writer;
        committed = written;
        expect(backup.output).toMatch(/npm start \(process \d+\) holds .*: asking it for the backup/);
        expect(backup.output).toContain('the copy opens');
        expect(backup.output).toContain('backup done in');
        expect(backup.code).toBe(0);
        manifest = JSON.parse(await readFile(`${file}.manifest.json`, 'utf8')) as BackupManifest;
        expect(manifest.format).toBe('pglite-datadir');
        const rows = manifest.rows['audit.audit_events']!;
        expect(rows).toBeGreaterThanOrEqual(8);
        expect(rows).toBeLessThanOrEqual(committed);
        // Every audit row has its ledger row: no half-written transaction is in the copy.
        expect(manifest.rows['platform.processed_events']).toBe(rows);
        for (const t of tenants) await write(app, t, 3, 'after');
      } finally {
        await app.end();
        await stopServing();
        await db.close();
      }
      // The serving process is gone: a backup now opens the folder itself, as before.
      const into = join(dir, 'restored');
      const restored = await run('restore.ts', [file], { ...env, WIDGETDC_DATA_DIR: into });
      expect(restored.output).toContain('restore done in');
      expect(restored.code).toBe(0);
      const back = await startEmbeddedDatabase({ dataDir: into });
      try {
        const state = await readState(back.pglite);
        expect(state.rows).toEqual(manifest.rows);
        expect(state.chainHeads).toEqual(manifest.chainHeads);
        expect(await brokenChainRows(back.pglite)).toEqual([]);
        const after = await back.pglite.query<{ n: number }>(
          `select count(*)::int as n from audit.audit_events where action = 'note.after'`,
        );
        expect(after.rows).toEqual([{ n: 0 }]);
      } finally {
        await back.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
