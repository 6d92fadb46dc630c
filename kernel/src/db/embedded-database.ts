import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { ConflictError } from '../errors.ts';
import { APP_ROLE } from './roles.ts';

/** Connections the embedded server accepts: every service's pool together stays below it. */
export const EMBEDDED_MAX_CONNECTIONS = 100;

/** Options of {@link startEmbeddedDatabase}. */
export interface EmbeddedDatabaseOptions {
  /** Folder for the data; absent keeps everything in memory (tests). */
  dataDir?: string;
  port?: number;
  host?: string;
}

/** A running PGlite served over the PostgreSQL wire protocol. */
export interface EmbeddedDatabase {
  /** Connection URL; before {@link seal} it is a superuser, after it the application role. */
  readonly url: string;
  readonly pglite: PGlite;
  /**
   * Makes the shared session the application role for every connection. PGlite has one backend
   * session and no per-connection authentication, so this is how services get the same
   * privileges as on a real server. Its limit: the session user stays a superuser, so SQL that
   * runs `SET SESSION AUTHORIZATION postgres` regains it; the embedded database is for development.
   */
  seal(): Promise<void>;
  close(): Promise<void>;
}

/** Starts PGlite with pgvector on a local port; a lock file keeps two processes off one data folder. */
export async function startEmbeddedDatabase(
  options: EmbeddedDatabaseOptions = {},
): Promise<EmbeddedDatabase> {
  const release = options.dataDir ? await lockDataDir(options.dataDir) : async () => {};
  let pglite: PGlite | undefined;
  try {
    pglite = await PGlite.create({
      dataDir: options.dataDir ? join(options.dataDir, 'pgdata') : undefined,
      extensions: { vector },
    });
    const server = new PGLiteSocketServer({
      db: pglite,
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      maxConnections: EMBEDDED_MAX_CONNECTIONS,
    });
    await server.start();
    const db = pglite;
    let closed = false;
    return {
      url: `postgres://postgres@${server.getServerConn()}/postgres`,
      pglite: db,
      seal: async () => {
        await db.exec(`set session authorization ${APP_ROLE}`);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await server.stop();
        await db.close();
        await release();
      },
    };
  } catch (error) {
    await pglite?.close().catch(() => {});
    await release();
    throw error;
  }
}

async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const lockFile = join(dataDir, 'widgetdc.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // 'wx' creates the file atomically, so two processes cannot both take the lock.
      await writeFile(lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(holder) && isAlive(holder)) {
      throw new ConflictError(
        `The embedded database in ${dataDir} is in use by process ${holder}. Stop it (Ctrl-C in its terminal) or set WIDGETDC_DATA_DIR to another folder.`,
      );
    }
    await rm(lockFile, { force: true }); // left by a process that died
  }
  throw new ConflictError(`Could not lock ${lockFile}; another process keeps taking it`);
}

/** Whether a process of this machine is running (a lock's or a control file's holder). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
