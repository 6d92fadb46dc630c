// The worker command: precise refusals of bad arguments, discovery of subgraph consumers, a clean
// exit on SIGTERM, and its own verified service identity (refusing to start without one).
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { WORKER_SERVICE_NAME } from '#events/consumer/service-actor.ts';
import { publish } from '#events/producer/outbox.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { devServiceClientId, devServiceId } from '#kernel/auth/dev-issuer.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { EFFECTS_TABLE_SQL } from '../../events/test/fixtures/effect-consumer.ts';
import { appOrm, eventually, REDIS_URL, tenantSource, workerIdentityEnv } from '../../events/test/support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const prefix = `wtdc-cli:${randomBytes(4).toString('hex')}:`;
let db: TestDatabase;
let issuer: TestIssuer;
let identity: Awaited<ReturnType<typeof workerIdentityEnv>>;
/** No identity configuration at all, whatever the test runner's environment holds. */
const NO_IDENTITY = { AUTH_ISSUER: '', AUTH_JWKS_URL: '', AUTH_TENANT_IDS: '', AUTH_CLIENT_ID: '' };

beforeAll(async () => {
  issuer = await startTestIssuer();
  identity = await workerIdentityEnv(issuer);
  db = await createTestDatabase();
});
afterAll(async () => {
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  await transport.destroy(['approval.requested', 'sample.decided', 'sample.uploaded']);
  await transport.close();
  await db?.close();
  await identity?.close();
  await issuer?.close();
});

function run(args: string[], env: Record<string, string>, onLine?: (line: string, stop: () => void) => void) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), ['scripts/worker.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', LOG_FORMAT: 'pretty', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      onLine?.(output, () => child.kill('SIGTERM'));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run worker', () => {
  it('refuses missing and invalid arguments with every problem named', async () => {
    const { code, output } = await run(['--concurrency', '0', '--probe-port', 'x'], { DATABASE_URL: '' });
    expect(code).toBe(1);
    expect(output).toContain('--probe-port must be a whole number from 0 to 65535 (got "x")');
    expect(output).toContain('--group <name> is required');
    expect(output).toContain('--concurrency must be a whole number from 1 to 256 (got "0")');
    expect(output).toContain('DATABASE_URL must be set');
  });

  it('names the known groups when the group does not exist', async () => {
    const { code, output } = await run(['--group', 'nope'], { DATABASE_URL: db.appUrl });
    expect(code).toBe(1);
    expect(output).toContain('no consumer group "nope"; known groups: agent-approvals');
  });

  it('runs a discovered subgraph consumer and stops cleanly on SIGTERM', async () => {
    let signalled = false;
    const { code, output } = await run(
      ['--group', 'agent-approvals', '--concurrency', '2'],
      { DATABASE_URL: db.appUrl, REDIS_URL, EVENTS_STREAM_PREFIX: prefix, ...identity.env },
      (text, stop) => {
        if (!signalled && text.includes('group agent-approvals on redis')) {
          signalled = true;
          stop();
        }
      },
    );
    expect(output).toContain(
      'topics approval.requested, approval.decided, approval.expired, concurrency 2, relay on',
    );
    expect(output).toContain('shutting down (SIGTERM)');
    expect(output).toContain('stopped');
    expect(output).toContain(
      `acting as service ${WORKER_SERVICE_NAME} (id ${devServiceId(WORKER_SERVICE_NAME)}, app ${devServiceClientId(WORKER_SERVICE_NAME)}), verified`,
    );
    expect(code).toBe(0);
  });

  it('serves /health and /ready on --probe-port while it runs (Kubernetes probes)', async () => {
    const answers: { path: string; status: number; body: unknown }[] = [];
    let probing = false;
    const { code } = await run(
      ['--group', 'agent-approvals', '--concurrency', '1', '--probe-port', '0', '--no-relay'],
      { DATABASE_URL: db.appUrl, REDIS_URL, EVENTS_STREAM_PREFIX: prefix, ...identity.env },
      (text, stop) => {
        const port = /probes on http:\/\/[^:]+:(\d+) /.exec(text)?.[1];
        if (!port || probing) return;
        probing = true;
        void (async () => {
          for (const path of ['/health', '/ready', '/metrics']) {
            const res = await fetch(`http://127.0.0.1:${port}${path}`);
            answers.push({ path, status: res.status, body: await res.json() });
          }
          stop();
        })();
      },
    );
    expect(code).toBe(0);
    expect(answers).toEqual([
      { path: '/health', status: 200, body: { status: 'ok' } },
      { path: '/ready', status: 200, body: { status: 'ready', ready: true, checks: { database: 'ok' } } },
      {
        path: '/metrics',
        status: 404,
        body: { error: expect.stringContaining('serves /health and /ready') },
      },
    ]);
  });

  it('refuses to start without any service identity configuration, saying what to set', async () => {
    const { code, output } = await run(['--group', 'agent-approvals'], {
      DATABASE_URL: db.appUrl,
      ...NO_IDENTITY,
    });
    expect(code).toBe(1);
    expect(output).toContain(
      'The worker acts as its own app identity and has none: it needs a service token it can verify',
    );
    expect(output).toContain('Service widgetdc-worker needs AUTH_ISSUER');
    expect(output).toContain('No identity provider is configured');
    expect(output).not.toContain('group agent-approvals on');
  });

  it('refuses to start when its service token does not verify (keys the issuer does not publish)', async () => {
    const { code, output } = await run(['--group', 'agent-approvals'], {
      DATABASE_URL: db.appUrl,
      ...identity.env,
      WIDGETDC_DATA_DIR: join(identity.env.WIDGETDC_DATA_DIR!, 'elsewhere'),
    });
    expect(code).toBe(1);
    expect(output).toContain('The worker could not prove its service identity at start-up');
    expect(output).toContain('signing key (kid) is not published by its issuer');
  });

  it("audits each effect as the worker's verified identity on behalf of the event's user", async () => {
    for (const sql of EFFECTS_TABLE_SQL.split(';').filter((s) => s.trim())) await db.asSuperuser(sql);
    const group = `audited-${randomBytes(3).toString('hex')}`;
    const orm = await appOrm(db);
    const source = await tenantSource(orm, 'audited');
    const documentId = randomUUID();
    let signalled = false;
    const audited = run(
      ['--group', group, '--consumers', join(ROOT, 'events/test/fixtures/effect-consumer.ts')],
      {
        DATABASE_URL: db.appUrl,
        REDIS_URL,
        EVENTS_STREAM_PREFIX: prefix,
        EVENTS_RELAY_POLL_MS: '50',
        TEST_CONSUMER_GROUP: group,
        ...identity.env,
      },
      (text, stop) => {
        if (!signalled && text.includes(`group ${group} on redis`)) {
          signalled = true;
          void withTenant(orm, source.tenantId, (em) =>
            publish(em, SampleUploaded, {
              ...source,
              aggregate: { type: 'Document', id: documentId },
              payload: { documentId, title: 'audited', mimeType: 'text/plain' },
            }),
          )
            .then(() =>
              eventually(
                async () =>
                  (
                    await db.asSuperuser('select 1 from audit.audit_events where target_id = $1', [
                      documentId,
                    ])
                  ).length > 0,
                'the audit record',
              ),
            )
            .finally(stop);
        }
      },
    );
    const { code, output } = await audited;
    await orm.close();
    expect(code).toBe(0);
    expect(output).toContain(`group ${group} on redis`);
    const rows = await db.asSuperuser<Record<string, string>>(
      `select a.actor_kind, a.actor_id, a.actor, a.on_behalf_of, a.action, a.target_type, a.outcome,
              (select count(*) from public.test_effects e where e.group_name = $2)::int as effects
         from audit.audit_events a where a.target_id = $1`,
      [documentId, group],
    );
    expect(rows).toEqual([
      {
        actor_kind: 'service',
        actor_id: devServiceId(WORKER_SERVICE_NAME),
        actor: WORKER_SERVICE_NAME,
        on_behalf_of: `${source.actor.name} (${source.actor.id})`,
        action: `${group}.sample.uploaded`,
        target_type: 'Document',
        outcome: 'success',
        effects: 1,
      },
    ]);
  });
});
