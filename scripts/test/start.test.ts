import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { ROOT_DIR } from '../../gateway/src/compose.ts';

/**
 * What `npm start` runs: 4 subgraphs, the gateway, and the workers agent-approvals, agent-runner,
 * agent-kill-switch, governance-approvals, knowledge-ingest.
 */
const PLATFORM_PROCESSES = 10;

const run = promisify(execFile);
let db: TestDatabase | undefined;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let gatewayUrl: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A hang guard, not a performance check: nine processes, the model load and the console build take
 * well over jest's default on a machine shared with other work.
 */
const START_TIMEOUT_MS = 300_000;

/** Platforms a test started; one a failed test left running is stopped before the next starts. */
const started = new Set<ChildProcess>();

/** Runs `npm start`'s entry point and resolves once it prints that the platform is ready. */
function startPlatform(): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [join(ROOT_DIR, 'scripts', 'start.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('WidgeTDC is ready')) resolve({ child, output: () => output });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output}`)),
    );
  });
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

async function childPids(pid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-o', 'pid=', '--ppid', String(pid)]).catch(() => ({ stdout: '' }));
  return stdout
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function token(tenant: string, user = 'alice', roles = 'Admin'): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT_DIR, 'scripts', 'token.ts'), '--tenant', tenant, '--user', user, '--roles', roles],
    { env },
  );
  return stdout.trim().split('\n').at(-1)!;
}

async function graphql(query: string, bearer: string) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as {
    data?: Record<string, { id?: string; status?: string; edges?: { node: { title: string } }[] }>;
    errors?: unknown[];
  };
}

/** The task's status once it is `expected`, or its last status when a minute passes without that. */
async function statusOnceSettled(id: string, bearer: string, expected: string): Promise<string | undefined> {
  const until = Date.now() + 60_000;
  let status: string | undefined;
  while (Date.now() < until) {
    status = (await graphql(`{ task(id: "${id}") { status } }`, bearer)).data?.task?.status;
    if (status === expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return status;
}

const titles = (body: Awaited<ReturnType<typeof graphql>>) =>
  body.data?.tasks?.edges?.map((e) => e.node.title) ?? [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'wtdc-start-'));
  const ports = {
    GATEWAY_PORT: 0,
    KNOWLEDGE_PORT: 0,
    AGENT_PORT: 0,
    GOVERNANCE_PORT: 0,
    AUDIT_PORT: 0,
    DEV_ISSUER_PORT: 0,
  };
  for (const key of Object.keys(ports) as (keyof typeof ports)[]) ports[key] = await freePort();
  env = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    WIDGETDC_DATA_DIR: dataDir,
    NODE_OPTIONS: '',
  };
  gatewayUrl = `http://127.0.0.1:${ports.GATEWAY_PORT}/graphql`;
  const kind = (globalThis as { WIDGETDC_TEST_DB?: string }).WIDGETDC_TEST_DB;
  if (kind !== 'pglite') {
    // On a real server npm start migrates as a superuser and runs services as the application role.
    db = await createTestDatabase();
    env.DATABASE_URL = db.appUrl;
    env.MIGRATION_DATABASE_URL = db.migrationUrl;
  }
});

afterEach(async () => {
  // A failed test must not leave its platform holding the ports (the next one would fail on EADDRINUSE).
  await Promise.all([...started].map((child) => stop(child, 'SIGTERM')));
});

afterAll(async () => {
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it(
    'starts everything, serves the joined query, and stops on Ctrl-C with no process left behind',
    async () => {
      const { child, output } = await startPlatform();
      expect(output()).toContain(`WidgeTDC is ready: ${gatewayUrl}`);
      expect(output()).toContain('npm run -s token -- --tenant demo --user alice --roles Admin');

      const acme = await token('acme');
      const created = await graphql(
        'mutation { createTask(input: { title: "Survives restarts" }) { id } }',
        acme,
      );
      expect(created.errors).toBeUndefined();
      const joined = await graphql(
        '{ tasks { edges { node { title status approvals { id status } } } } }',
        acme,
      );
      expect(joined).toEqual({
        data: {
          tasks: { edges: [{ node: { title: 'Survives restarts', status: 'PENDING', approvals: [] } }] },
        },
      });
      expect(titles(await graphql('{ tasks { edges { node { title } } } }', await token('initech')))).toEqual(
        [],
      );

      if (!env.DATABASE_URL) {
        // The seeded demo tenant, and the data folder refusing a second user while in use.
        expect(
          titles(await graphql('{ tasks { edges { node { title } } } }', await token('demo'))),
        ).toContain('Summarise the security policy for new joiners');
        const second = await run(process.execPath, [join(ROOT_DIR, 'scripts', 'migrate.ts')], { env }).catch(
          (e) => e,
        );
        expect(second.code).toBe(1);
        expect(second.stderr).toMatch(/in use by process \d+/);
      }

      // The event machinery runs too: an approval decision moves its task (agent-approvals worker).
      expect(output()).toMatch(/Running: .*worker agent-approvals.*gateway/);
      const taskId = (await graphql('mutation { createTask(input: { title: "Risky" }) { id } }', acme)).data
        ?.createTask?.id;
      const requested = await graphql(
        `mutation { requestApproval(input: { taskId: "${taskId}", riskLevel: HIGH, reason: "Sends mail" }) { id } }`,
        acme,
      );
      expect(requested.errors).toBeUndefined();
      const approver = await token('acme', 'bob', 'Approver');
      const decided = await graphql(
        `mutation { decideApproval(input: { id: "${requested.data?.requestApproval?.id}", decision: APPROVE }) { id } }`,
        approver,
      );
      expect(decided.errors).toBeUndefined();
      expect(await statusOnceSettled(taskId!, acme, 'RUNNING')).toBe('RUNNING');
      if (!env.DATABASE_URL) {
        // The demo tenant operates the development platform: its Admins see the event streams.
        const streams = await graphql('{ eventStreams { topic group } }', await token('demo'));
        expect(streams.data?.eventStreams).toContainEqual({
          topic: 'approval.decided',
          group: 'agent-approvals',
        });
        const refused = await graphql('{ eventStreams { topic } }', acme);
        expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
      }

      const children = await childPids(child.pid!);
      expect(children.length).toBe(PLATFORM_PROCESSES);
      expect(await stop(child, 'SIGINT')).toBe(0);
      expect(children.filter(alive)).toEqual([]);
      expect(output()).toContain('[start] stopped');
    },
    START_TIMEOUT_MS,
  );

  it(
    'keeps the data across a restart, and restarts a crashed service',
    async () => {
      const { child, output } = await startPlatform();
      try {
        expect(titles(await graphql('{ tasks { edges { node { title } } } }', await token('acme')))).toEqual([
          'Risky',
          'Survives restarts',
        ]);

        // The audit subgraph crashes: the supervisor restarts it on its port and the platform stays up.
        const { stdout } = await run('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)]);
        const auditPid = Number(/^\s*(\d+) .*subgraphs\/audit\/src\/index\.ts/m.exec(stdout)?.[1]);
        expect(auditPid).toBeGreaterThan(0);
        process.kill(auditPid, 'SIGKILL');
        while (!output().includes('audit is running again (restart 1)'))
          await new Promise((r) => setTimeout(r, 100));
        expect(output()).toMatch(/audit exited unexpectedly \(SIGKILL\); restarting it in/);
        const admin = await token('acme', 'ada', 'Admin');
        const checkpoint = await graphql('mutation { checkpointAuditChain { sequence created } }', admin);
        expect(checkpoint.errors).toBeUndefined();
        const verified = (await graphql(
          '{ verifyAuditChain { ok checkpoints anchoredThrough } }',
          admin,
        )) as {
          data?: { verifyAuditChain?: { ok: boolean; checkpoints: number } };
        };
        // The checkpoint timer may have written some before; the one just asked for is among them.
        expect(verified.data?.verifyAuditChain).toMatchObject({ ok: true });
        expect(verified.data?.verifyAuditChain?.checkpoints).toBeGreaterThanOrEqual(1);
        expect((await childPids(child.pid!)).length).toBe(PLATFORM_PROCESSES);

        if (!env.DATABASE_URL) {
          // npm run backup while the platform runs: npm start copies its own database.
          const file = join(dataDir, 'running.pglite.tar.gz');
          const backup = await run(
            process.execPath,
            [join(ROOT_DIR, 'scripts', 'backup.ts'), '--out', file],
            {
              env,
            },
          );
          expect(backup.stdout).toMatch(/npm start \(process \d+\) holds .*: asking it for the backup/);
          expect(backup.stdout).toContain('backup done in');
          const manifest = JSON.parse(await readFile(`${file}.manifest.json`, 'utf8')) as {
            rows: Record<string, number>;
          };
          expect(manifest.rows['agent.tasks']).toBeGreaterThanOrEqual(2);
        }
      } finally {
        expect(await stop(child, 'SIGTERM')).toBe(0);
      }
    },
    START_TIMEOUT_MS,
  );
});
