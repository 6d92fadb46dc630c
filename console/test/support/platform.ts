// Starts what `npm start` starts (scripts/start.ts) on free ports and a fresh data folder, as
// scripts/test/start.test.ts does; on the native PostgreSQL project it uses a test database.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { ROOT_DIR } from '../../../gateway/src/compose.ts';

/** A running platform. */
export interface Platform {
  /** The gateway's origin, e.g. http://127.0.0.1:40123. */
  origin: string;
  /** What the platform printed so far. */
  output(): string;
  /** Mints a dev token the way the console does (through the gateway). */
  token(user: string, roles: string[], tenant?: string): Promise<string>;
  /** A GraphQL request as `bearer`. */
  graphql<T>(bearer: string, query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** How long the platform may take to say it is ready before it counts as hung. */
export const START_GUARD_MS = 480_000;

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the platform (with `extraEnv` added to its environment) and resolves once it printed that it is ready. */
export async function startPlatform(extraEnv: NodeJS.ProcessEnv = {}): Promise<Platform> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wtdc-console-test-'));
  const names = [
    'GATEWAY_PORT',
    'KNOWLEDGE_PORT',
    'AGENT_PORT',
    'GOVERNANCE_PORT',
    'AUDIT_PORT',
    'DEV_ISSUER_PORT',
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WIDGETDC_DATA_DIR: dataDir,
    NODE_OPTIONS: '',
    // The journeys need documents to become READY, not good vectors: the character-trigram embedder
    // starts at once where the TensorFlow one takes tens of seconds on a loaded machine.
    EMBEDDINGS_PROVIDER: 'hashed',
    ...extraEnv,
  };
  for (const name of names) env[name] = String(await freePort());
  let db: TestDatabase | undefined;
  if ((globalThis as { WIDGETDC_TEST_DB?: string }).WIDGETDC_TEST_DB !== 'pglite') {
    db = await createTestDatabase();
    env.DATABASE_URL = db.appUrl;
    env.MIGRATION_DATABASE_URL = db.migrationUrl;
  }
  const origin = `http://127.0.0.1:${env.GATEWAY_PORT}`;
  const child: ChildProcess = spawn(process.execPath, [join(ROOT_DIR, 'scripts', 'start.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    // A hang guard, not a timing check: ten processes start one after another, slowly on a machine
    // shared with other browser suites. Past it the platform is stopped and its output shown.
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `npm start was not ready after ${START_GUARD_MS / 1000} s; its output:\n${output.slice(-6000)}`,
        ),
      );
    }, START_GUARD_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('WidgeTDC is ready')) {
        clearTimeout(guard);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(guard);
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output.slice(-6000)}`));
    });
  });
  const graphql = async <T>(bearer: string, query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data as T;
  };
  return {
    origin,
    output: () => output,
    async token(user, roles, tenant = 'demo') {
      const res = await fetch(`${origin}/console/dev-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tenant, user, roles }),
      });
      return ((await res.json()) as { token: string }).token;
    },
    graphql,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      await db?.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
