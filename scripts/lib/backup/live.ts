import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { type EmbeddedDatabase, isAlive } from '#kernel/db/embedded-database.ts';
import { ConflictError, ValidationError } from '#kernel/errors.ts';
import { type BackupManifest, readState, writeManifest } from './manifest.ts';

/**
 * Backups of the embedded database while `npm start` runs. PGlite has one session, owned by the
 * process that holds the data folder, so only that process can copy it: it serves backups on a
 * loopback port named, with a random key, in a file of the data folder that only the folder's owner
 * reads (whoever can read that file can read the database files anyway). `npm run backup` finds the
 * file and asks.
 *
 * The copy is PGlite's data folder taken between two statements (no query runs while it is read):
 * what a power cut would leave, which PostgreSQL recovers to exactly the committed transactions. The
 * manifest is read from that very copy, opened in memory, so it describes the backup itself, and a
 * copy that would not open fails the backup instead of a later restore.
 */
const CONTROL_FILE = 'widgetdc.backup.json';

interface Control {
  readonly pid: number;
  readonly port: number;
  readonly key: string;
}

/** One line of the backup server's answer (newline-delimited JSON). */
type Line = { log: string } | { manifest: BackupManifest } | { error: string };

/** Serves backups of `db` (held by this process) until the returned function is called. */
export async function serveLiveBackups(db: EmbeddedDatabase, dataDir: string): Promise<() => Promise<void>> {
  const key = randomBytes(32).toString('hex');
  const server = createServer((req, res) => {
    const given = Buffer.from(/^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '');
    const expected = Buffer.from(key);
    if (req.method !== 'POST' || req.url !== '/backup') {
      res.writeHead(404).end();
      return;
    }
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const send = (line: Line) => res.write(`${JSON.stringify(line)}\n`);
      const file = (JSON.parse(body || '{}') as { file?: unknown }).file;
      (typeof file === 'string' && isAbsolute(file)
        ? backupRunning(db, file, (log) => send({ log }))
        : Promise.reject(new ValidationError('the backup file must be an absolute path'))
      )
        .then((manifest) => send({ manifest }))
        .catch((error: unknown) => send({ error: error instanceof Error ? error.message : String(error) }))
        .finally(() => res.end());
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  const control: Control = { pid: process.pid, port, key };
  await writeFile(join(dataDir, CONTROL_FILE), JSON.stringify(control), { mode: 0o600 });
  return async () => {
    await rm(join(dataDir, CONTROL_FILE), { force: true });
    await new Promise<void>((done) => server.close(() => done()));
  };
}

/** Copies the running database into `file` and writes its manifest. */
async function backupRunning(
  db: EmbeddedDatabase,
  file: string,
  log: (line: string) => void,
): Promise<BackupManifest> {
  log('copying the running embedded database (queries wait while its files are read)');
  const started = Date.now();
  const tar = await db.pglite.dumpDataDir('none');
  log(
    `copied ${(tar.size / 1024 / 1024).toFixed(1)} MiB in ${Date.now() - started} ms; opening the copy to check it`,
  );
  const copy = await PGlite.create({ loadDataDir: tar, extensions: { vector } });
  let state: Awaited<ReturnType<typeof readState>>;
  try {
    state = await readState(copy);
  } finally {
    await copy.close();
  }
  const rows = Object.values(state.rows).reduce((a, b) => a + b, 0);
  log(`the copy opens: ${rows} rows in ${Object.keys(state.rows).length} tables; compressing`);
  await writeFile(file, await promisify(gzip)(Buffer.from(await tar.arrayBuffer())));
  return writeManifest(file, 'pglite-datadir', state);
}

/**
 * Asks the process that holds `dataDir` (npm start) for a backup into `file`; undefined when no live
 * process serves backups for that folder.
 */
export async function requestLiveBackup(
  dataDir: string,
  file: string,
  log: (line: string) => void,
): Promise<BackupManifest | undefined> {
  const path = join(dataDir, CONTROL_FILE);
  if (!existsSync(path)) return undefined;
  const control = JSON.parse(await readFile(path, 'utf8')) as Control;
  if (!isAlive(control.pid)) return undefined;
  log(`npm start (process ${control.pid}) holds ${dataDir}: asking it for the backup`);
  const lines = post(control, JSON.stringify({ file: resolve(file) }));
  let manifest: BackupManifest | undefined;
  for await (const line of lines) {
    if ('log' in line) log(line.log);
    else if ('error' in line)
      throw new ConflictError(`the running platform could not back up: ${line.error}`);
    else manifest = line.manifest;
  }
  if (!manifest) throw new ConflictError(`process ${control.pid} ended the backup without a manifest`);
  return manifest;
}

async function* post(control: Control, body: string): AsyncGenerator<Line> {
  const res = await new Promise<import('node:http').IncomingMessage>((done, fail) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: control.port,
        method: 'POST',
        path: '/backup',
        headers: { authorization: `Bearer ${control.key}`, 'content-type': 'application/json' },
      },
      done,
    );
    req.on('error', fail);
    req.end(body);
  });
  if (res.statusCode !== 200) {
    res.resume();
    throw new ConflictError(`process ${control.pid} refused the backup (HTTP ${res.statusCode})`);
  }
  res.setEncoding('utf8');
  let buffered = '';
  for await (const chunk of res as AsyncIterable<string>) {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      yield JSON.parse(buffered.slice(0, newline)) as Line;
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
}
