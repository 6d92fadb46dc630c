/**
 * The part of the platform the evaluation talks to: a persistent database (PGlite in the cache folder,
 * or the server at DATABASE_URL), a development token issuer, the knowledge subgraph over HTTP in this
 * process (verifying every token, as deployed) and a knowledge-ingest worker as its own process
 * (`scripts/worker.ts`, with its outbox relay), so that embedding does not stall the subgraph. Nothing
 * here is a test double: documents go through `ingestDocument`, the outbox, the event bus, parsing,
 * chunking and embedding exactly as under `npm start`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { loadConfig } from '#kernel/config.ts';
import { type EmbeddedDatabase, startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { migrate } from '#kernel/db/migrate.ts';
import { type RunningSubgraph, startSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { type KnowledgeConfig, loadKnowledgeConfig } from '../../subgraphs/knowledge/src/config.ts';
import { INGEST_GROUP } from '../../subgraphs/knowledge/src/consumers/ingest.ts';
import { createKnowledgeSubgraph } from '../../subgraphs/knowledge/src/subgraph.ts';

/** The tenant (slug) the corpus is ingested into and every question is asked in. */
export const EVAL_TENANT = 'eval';
/** Ingestion jobs the worker runs at once. */
const WORKER_CONCURRENCY = 2;
/** How long the worker may take to start (it loads the embedding model first). */
const WORKER_START_MS = 180_000;
const ROOT = join(import.meta.dirname, '..', '..');

/** A running evaluation platform. */
export interface EvalPlatform {
  /** The knowledge subgraph's GraphQL endpoint. */
  readonly url: string;
  readonly config: KnowledgeConfig;
  /** Where the data lives: the cache folder, or `DATABASE_URL`. */
  readonly database: string;
  /** The database as the application role (runs are stored through it). */
  readonly databaseUrl: string;
  /** The evaluation tenant's id (its runs are stored in it). */
  readonly tenantId: string;
  /** A fresh token of the evaluation tenant's user (Contributor and Reader). */
  token(): Promise<string>;
  close(): Promise<void>;
}

/** The code that decides what a page's chunks and vectors are: a change to it makes a new cache. */
const INGESTION_CODE = ['ingest', 'embeddings', 'consumers'].map((dir) =>
  join(ROOT, 'subgraphs', 'knowledge', 'src', dir),
);

/**
 * The cache folder of one configuration and one version of the ingestion code: vectors from another
 * embedder, or chunks cut by another chunker, would be wrong for this run, so each combination keeps
 * its own database (older folders can be deleted at will).
 */
export function cacheFolder(dataDir: string, config: KnowledgeConfig): string {
  const e = config.embeddings;
  const model = e.provider === 'openai' ? `-${(e.model ?? '').replace(/[^A-Za-z0-9._-]/g, '_')}` : '';
  const code = createHash('sha256');
  for (const dir of INGESTION_CODE) {
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .sort()) {
      code.update(file).update(readFileSync(join(dir, file)));
    }
  }
  const version = code.digest('hex').slice(0, 10);
  return join(
    dataDir,
    'eval',
    `${e.provider}${model}-${e.dimensions}d-${config.chunkTokens}t-${config.chunkOverlapTokens}o-${version}`,
  );
}

/** Starts the database, issuer, knowledge subgraph and ingestion worker; `log` gets one line a step. */
export async function startEvalPlatform(log: (line: string) => void): Promise<EvalPlatform> {
  const platform = loadConfig();
  const config = loadKnowledgeConfig();
  const logger = createLogger('eval', {
    level: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'warn',
    format: 'pretty',
  });
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch(() => {});
  };
  try {
    const opened = await openEvalDatabase(config);
    closers.push(opened.close);
    const { url, database } = opened;
    log(`database: ${database}`);
    const issuer: TestIssuer = await startTestIssuer();
    closers.push(() => issuer.close());
    const subgraph: RunningSubgraph = await startSubgraph(createKnowledgeSubgraph(config), {
      databaseUrl: url,
      auth: issuer.auth,
      autoProvisionTenants: true,
      host: '127.0.0.1',
      port: 0,
      introspection: false,
      poolMax: 4,
      logger,
    });
    closers.push(() => subgraph.close());
    log(`knowledge subgraph: ${subgraph.url}`);
    const worker = await startWorker(url, issuer, folderForLogs(database, platform.dataDir));
    closers.push(() => worker.stop());
    log(
      `ingestion worker: process ${worker.pid}, embeddings ${config.embeddings.provider}, chunks of ${config.chunkTokens} tokens (log: ${worker.logFile})`,
    );
    return {
      url: subgraph.url,
      config,
      database,
      databaseUrl: url,
      tenantId: devTenantId(EVAL_TENANT),
      token: () => issuer.token(EVAL_TENANT, 'evaluator', ['Contributor', 'Reader']),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The evaluation's database, migrated, as the application role. */
export interface EvalDatabase {
  readonly url: string;
  /** The cache folder, or `DATABASE_URL`. */
  readonly database: string;
  close(): Promise<void>;
}

/**
 * Opens the database the evaluation of `config` uses: the server at DATABASE_URL (migrated first when
 * MIGRATION_DATABASE_URL is set), else the embedded PGlite of the configuration's cache folder.
 */
export async function openEvalDatabase(
  config: KnowledgeConfig = loadKnowledgeConfig(),
): Promise<EvalDatabase> {
  const platform = loadConfig();
  if (platform.database.url) {
    if (process.env.MIGRATION_DATABASE_URL) await migrate({ url: process.env.MIGRATION_DATABASE_URL });
    return { url: platform.database.url, database: 'DATABASE_URL', close: async () => {} };
  }
  const folder = cacheFolder(platform.dataDir, config);
  const db: EmbeddedDatabase = await startEmbeddedDatabase({ dataDir: folder });
  try {
    await migrate({ url: db.url });
    await db.seal();
  } catch (error) {
    await db.close();
    throw error;
  }
  return { url: db.url, database: folder, close: () => db.close() };
}

/** Where the worker's log goes: the cache folder, or the data folder with a server database. */
function folderForLogs(database: string, dataDir: string): string {
  return database === 'DATABASE_URL' ? join(dataDir, 'eval') : database;
}

/** A worker process and how to stop it. */
interface WorkerProcess {
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts `npm run worker -- --group knowledge-ingest` on `databaseUrl` with the issuer's keys as its
 * service identity (as `npm start` gives them), and waits until it says it runs.
 */
async function startWorker(databaseUrl: string, issuer: TestIssuer, logDir: string): Promise<WorkerProcess> {
  const keysDir = await mkdtemp(join(tmpdir(), 'wtdc-eval-worker-'));
  await mkdir(join(keysDir, 'dev-issuer'), { mode: 0o700 });
  await writeFile(join(keysDir, 'dev-issuer', 'keys.json'), JSON.stringify(issuer.keys), { mode: 0o600 });
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, 'worker.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const child: ChildProcess = spawn(
    join(ROOT, 'node_modules', '.bin', 'node'),
    ['scripts/worker.ts', '--group', INGEST_GROUP, '--concurrency', String(WORKER_CONCURRENCY)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: databaseUrl,
        // The evaluation's events stay in its own database (the embedded Postgres transport).
        REDIS_URL: '',
        WIDGETDC_DATA_DIR: keysDir,
        AUTH_ISSUER: issuer.issuer.issuer,
        AUTH_JWKS_URL: issuer.issuer.jwksUrl,
        AUTH_AUDIENCE: issuer.audience,
        EVENTS_RELAY_POLL_MS: '50',
        LOG_FORMAT: 'pretty',
      },
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let tail = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`the ingestion worker did not start within ${WORKER_START_MS / 1000} s (see ${logFile})`),
        ),
      WORKER_START_MS,
    );
    const watch = (chunk: Buffer) => {
      log.write(chunk);
      tail = (tail + chunk.toString()).slice(-2000);
      if (tail.includes(`group ${INGEST_GROUP} on`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', watch);
    child.stderr!.on('data', watch);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the ingestion worker exited (${code}) before it ran: ${tail.trim().split('\n').slice(-3).join(' | ')}`,
        ),
      );
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    log.end();
    await rm(keysDir, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid!, logFile, stop };
}
