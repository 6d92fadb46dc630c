// The platform-wide kill switch through the real path: an operator Admin's engage/release mutation →
// governance's one-row table and outbox → the agent-runner group's copy → the tasks of every tenant
// paused (in-flight calls aborted) and resumed; refused to any other Admin; visible to every tenant's
// `killSwitch`; audited in the tenants it paused; the state survives a runner restart.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { StreamTransport } from '#events/transport/transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase, testDatabaseKind } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, makeTransport } from '../../../../events/test/support.ts';
import { graphTaskLookup } from '../../../governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../../governance/src/subgraph.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { agentKillSwitch } from '../../src/consumers/kill-switch.ts';
import { createAgentRunner, RUNNER_ENTITIES } from '../../src/consumers/runner.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools, waitGate } from '../fixtures/test-tools.ts';
import { startWorker } from './support.ts';

let db: TestDatabase;
let issuer: TestIssuer;
let agent: SubgraphHarness;
let governance: SubgraphHarness;
let orm: MikroORM;
let transport: StreamTransport;
let runner: ReturnType<typeof createAgentRunner>;
let running: Awaited<ReturnType<typeof startWorker>> | undefined;
let applying: Awaited<ReturnType<typeof startWorker>> | undefined;
let olga: Identity; // Admin of the operator tenant
let otto: Identity; // Approver of the operator tenant
let ada: Identity; // Admin of acme, no operator
let carl: Identity; // Contributor of acme
let gus: Identity; // Contributor of globex

beforeAll(async () => {
  const config = loadAgentConfig({});
  const tools = testTools(config);
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  agent = await createSubgraphHarness(createAgentSubgraph(config, tools), db);
  const tasks = graphTaskLookup((ctx, query, variables) => agent.execute(ctx.identity, query, variables));
  governance = await createSubgraphHarness(governanceSubgraph({ tasks }), db, {
    operatorTenantIds: [devTenantId('ops')],
  });
  olga = await agent.identity('ops', 'olga', ['Admin']);
  otto = await agent.identity('ops', 'otto', ['Approver']);
  ada = await agent.identity('acme', 'ada', ['Admin']);
  carl = await agent.identity('acme', 'carl', ['Contributor']);
  gus = await agent.identity('globex', 'gus', ['Contributor']);
  orm = await createOrm({ url: db.appUrl, entities: RUNNER_ENTITIES, poolMax: 6 });
  transport = makeTransport('redis', db);
  runner = createAgentRunner({ tools, steps: config.steps });
  running = await startWorker(orm, transport, runner, issuer, db.appUrl);
  // The agent-kill-switch group applies every change too, as `npm start` runs it: twice, no second effect.
  applying = await startWorker(orm, transport, agentKillSwitch, issuer, db.appUrl);
});
afterAll(async () => {
  waitGate.hold = false;
  await applying?.close();
  await running?.close();
  await transport?.destroy(['task.step_ready', 'killswitch.changed']);
  await transport?.close();
  await orm?.close();
  await governance?.close();
  await agent?.close();
  await db?.close();
  await issuer?.close();
});

const CREATE = 'mutation ($s: [TaskStepInput!]) { createTask(input: { goal: "Work", steps: $s }) { id } }';
const TASK = 'query ($id: ID!) { task(id: $id) { status steps { tool status attempts } } }';
const ENGAGE =
  'mutation { engagePlatformKillSwitch(reason: "Incident 42") { effective platform { engaged } } }';
const RELEASE = 'mutation { releasePlatformKillSwitch { effective platform { engaged } } }';
const STATE = 'query { killSwitch { engaged effective platform { engaged engagedBy reason engagedAt } } }';
type Task = { status: string; steps: { tool: string; status: string; attempts: number }[] };
const taskOf = async (who: Identity, id: string) =>
  (await agent.execute(who, TASK, { id })).data?.task as Task;
const until = async (who: Identity, id: string, status: string) => {
  await eventually(async () => (await taskOf(who, id)).status === status, `task ${status}`);
  return taskOf(who, id);
};
const create = async (who: Identity, steps: unknown[]) =>
  ((await agent.execute(who, CREATE, { s: steps })).data!.createTask as { id: string }).id;
const copyEngaged = async (engaged: boolean) =>
  eventually(
    async () => {
      const rows = await db.asSuperuser<{ engaged: boolean }>(
        'select engaged from agent.platform_kill_switch_state',
      );
      return rows[0]?.engaged === engaged;
    },
    `the runners' copy to be ${engaged ? 'engaged' : 'released'}`,
  );
const mail = { tool: 'email.send', input: { to: ['x@example.com'], subject: 'Hi', body: 'Hello' } };

describe('platform-wide kill switch', () => {
  it('is refused to Admins of other tenants and to operators without the Admin role', async () => {
    const byTenantAdmin = await governance.execute(ada, ENGAGE);
    expect(byTenantAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(byTenantAdmin.errors?.[0]?.message).toMatch(/OPERATOR_TENANT_IDS/);
    expect((await governance.execute(ada, RELEASE)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await governance.execute(otto, ENGAGE)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await governance.execute(carl, STATE)).data).toEqual({
      killSwitch: {
        engaged: false,
        effective: false,
        platform: { engaged: false, engagedBy: null, reason: null, engagedAt: null },
      },
    });
    // The refusal is in the refused Admin's tenant's audit log.
    const denied = await db.asSuperuser<{ outcome: string }>(
      `select outcome from audit.audit_events where action = 'governance.engagePlatformKillSwitch' and tenant_id = $1`,
      [ada.tenantId],
    );
    expect(denied.map((r) => r.outcome)).toEqual(['denied']);
  });

  it('pauses the tasks of every tenant, survives a runner restart, and resumes them on release', async () => {
    // Waiting for approval in two tenants before the switch is engaged.
    const acmeMail = await create(carl, [mail]);
    const globexMail = await create(gus, [mail]);
    await until(carl, acmeMail, 'WAITING_FOR_APPROVAL');
    await until(gus, globexMail, 'WAITING_FOR_APPROVAL');

    expect((await governance.execute(olga, ENGAGE)).data).toEqual({
      engagePlatformKillSwitch: { effective: true, platform: { engaged: true } },
    });
    await until(carl, acmeMail, 'PAUSED');
    await until(gus, globexMail, 'PAUSED');
    const seen = (await governance.execute(gus, STATE)).data?.killSwitch as Record<string, unknown>;
    expect(seen).toMatchObject({
      engaged: false,
      effective: true,
      platform: { engaged: true, engagedBy: 'olga@ops', reason: 'Incident 42' },
    });
    const audited = await db.asSuperuser<{ tenant_id: string }>(
      `select tenant_id from audit.audit_events where action = 'agent-runner.killswitch.platform_engaged'
        order by tenant_id`,
    );
    expect(audited.map((r) => r.tenant_id).sort()).toEqual([carl.tenantId, gus.tenantId].sort());
    const operatorAudit = await db.asSuperuser<{ outcome: string }>(
      `select outcome from audit.audit_events where action = 'governance.engagePlatformKillSwitch' and tenant_id = $1
        order by at`,
      [olga.tenantId],
    );
    // Otto's refused attempt (an Approver), then Olga's engagement.
    expect(operatorAudit.map((r) => r.outcome)).toEqual(['denied', 'success']);

    // No new step starts in any tenant, also after a restart of the runner.
    await copyEngaged(true);
    const globexNote = await create(gus, [{ tool: 'notes.create', input: { title: 'globex, engaged' } }]);
    expect((await until(gus, globexNote, 'PAUSED')).steps[0]).toMatchObject({
      status: 'PENDING',
      attempts: 0,
    });
    await running!.close();
    running = await startWorker(orm, transport, runner, issuer, db.appUrl);
    const acmeNote = await create(carl, [{ tool: 'notes.create', input: { title: 'acme, restarted' } }]);
    expect((await until(carl, acmeNote, 'PAUSED')).steps[0]).toMatchObject({
      status: 'PENDING',
      attempts: 0,
    });

    // Release: every paused task resumes where it was, each step once.
    expect((await governance.execute(olga, RELEASE)).data).toEqual({
      releasePlatformKillSwitch: { effective: false, platform: { engaged: false } },
    });
    expect((await until(gus, globexNote, 'COMPLETED')).steps[0]).toMatchObject({ attempts: 1 });
    expect((await until(carl, acmeNote, 'COMPLETED')).steps[0]).toMatchObject({ attempts: 1 });
    // Back to waiting for the same approval requests.
    expect((await until(carl, acmeMail, 'WAITING_FOR_APPROVAL')).steps[0]!.status).toBe(
      'WAITING_FOR_APPROVAL',
    );
    expect((await until(gus, globexMail, 'WAITING_FOR_APPROVAL')).steps[0]!.status).toBe(
      'WAITING_FOR_APPROVAL',
    );
  });

  it("keeps a tenant's own engaged switch when the platform's is released", async () => {
    await governance.execute(ada, 'mutation { engageKillSwitch(reason: "Ours") { engaged } }');
    await governance.execute(olga, ENGAGE);
    await copyEngaged(true);
    const acmeNote = await create(carl, [{ tool: 'notes.create', input: { title: 'acme, both' } }]);
    const globexNote = await create(gus, [{ tool: 'notes.create', input: { title: 'globex, both' } }]);
    await until(carl, acmeNote, 'PAUSED');
    await until(gus, globexNote, 'PAUSED');
    await governance.execute(olga, RELEASE);
    await until(gus, globexNote, 'COMPLETED');
    expect((await taskOf(carl, acmeNote)).status).toBe('PAUSED');
    await governance.execute(ada, 'mutation { releaseKillSwitch { engaged } }');
    await until(carl, acmeNote, 'COMPLETED');
  });

  // On PGlite one open transaction holds the whole database, so nothing can engage the switch while a
  // step runs: the in-flight abort is declared only for servers with real connections.
  if (testDatabaseKind() !== 'pglite')
    it('aborts the calls in flight in two tenants (native PostgreSQL) and resumes them', async () => {
      waitGate.hold = true;
      const acme = await create(carl, [{ tool: 'test.wait', input: {} }]);
      const globex = await create(gus, [{ tool: 'test.wait', input: {} }]);
      await eventually(async () => waitGate.inFlight === 2, 'both calls to be in flight');
      await governance.execute(olga, ENGAGE);
      expect((await until(carl, acme, 'PAUSED')).steps[0]).toMatchObject({ status: 'PENDING', attempts: 0 });
      expect((await until(gus, globex, 'PAUSED')).steps[0]).toMatchObject({ status: 'PENDING', attempts: 0 });
      expect(waitGate.inFlight).toBe(0);
      waitGate.hold = false;
      await governance.execute(olga, RELEASE);
      expect((await until(carl, acme, 'COMPLETED')).steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        attempts: 1,
      });
      expect((await until(gus, globex, 'COMPLETED')).steps[0]).toMatchObject({
        status: 'SUCCEEDED',
        attempts: 1,
      });
    });
});
