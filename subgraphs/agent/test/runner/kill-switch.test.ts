// The kill switch through the real path: governance's engage/release mutations → outbox → the
// agent-runner group's copy in agent.kill_switch_state → in-flight calls aborted, tasks PAUSED, no new
// step; the state survives a runner restart; release resumes every paused task where it was.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase, testDatabaseKind } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, makeTransport } from '../../../../events/test/support.ts';
import { graphTaskLookup } from '../../../governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../../governance/src/subgraph.ts';
import { loadAgentConfig } from '../../src/config.ts';
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
let carl: Identity;
let ann: Identity;
let ada: Identity;

beforeAll(async () => {
  const config = loadAgentConfig({});
  const tools = testTools(config);
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  agent = await createSubgraphHarness(createAgentSubgraph(config, tools), db);
  const tasks = graphTaskLookup((ctx, query, variables) => agent.execute(ctx.identity, query, variables));
  governance = await createSubgraphHarness(governanceSubgraph({ tasks }), db);
  carl = await agent.identity('acme', 'carl', ['Contributor']);
  ann = await agent.identity('acme', 'ann', ['Approver']);
  ada = await agent.identity('acme', 'ada', ['Admin']);
  orm = await createOrm({ url: db.appUrl, entities: RUNNER_ENTITIES, poolMax: 6 });
  transport = makeTransport('redis', db);
  runner = createAgentRunner({ tools, steps: config.steps });
  running = await startWorker(orm, transport, runner, issuer, db.appUrl);
});
afterAll(async () => {
  waitGate.hold = false;
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
type Task = { status: string; steps: { tool: string; status: string; attempts: number }[] };
const taskOf = async (id: string) => (await agent.execute(carl, TASK, { id })).data?.task as Task;
const until = async (id: string, status: string) => {
  await eventually(async () => (await taskOf(id)).status === status, `task ${status}`);
  return taskOf(id);
};
const create = async (steps: unknown[]) =>
  ((await agent.execute(carl, CREATE, { s: steps })).data!.createTask as { id: string }).id;

describe('kill switch', () => {
  // On PGlite one open transaction holds the whole database (its socket multiplexes one backend),
  // so nothing can engage the switch while a step runs: the in-flight abort is declared only for
  // servers with real connections (the postgres project, which CI requires). On both, no step
  // starts while engaged.
  const onServer = testDatabaseKind() !== 'pglite';
  if (onServer)
    it('aborts the call in flight (native PostgreSQL) and pauses the task', async () => {
      const busy = await create([
        { tool: 'test.wait', input: {} },
        { tool: 'notes.create', input: { title: 'after wait' } },
      ]);
      await eventually(async () => waitGate.inFlight === 1, 'the call to be in flight');
      const engaged = await governance.execute(
        ann,
        'mutation { engageKillSwitch(reason: "Runaway agent") { engaged } }',
      );
      expect(engaged.data).toEqual({ engageKillSwitch: { engaged: true } });
      const paused = await until(busy, 'PAUSED');
      expect(waitGate.inFlight).toBe(0);
      // Aborted, not failed: the step starts again from scratch, and the abort is audited.
      expect(paused.steps).toEqual([
        { tool: 'test.wait', status: 'PENDING', attempts: 0 },
        { tool: 'notes.create', status: 'PENDING', attempts: 0 },
      ]);
      const denied = await db.asSuperuser<{ outcome: string }>(
        `select outcome from audit.audit_events where action = 'agent.tool.test.wait'`,
      );
      expect(denied.map((r) => r.outcome)).toEqual(['denied']);
      waitGate.hold = false;
      expect((await governance.execute(ada, 'mutation { releaseKillSwitch { engaged } }')).data).toEqual({
        releaseKillSwitch: { engaged: false },
      });
      const resumed = await until(busy, 'COMPLETED');
      expect(resumed.steps.map((s) => [s.status, s.attempts])).toEqual([
        ['SUCCEEDED', 1],
        ['SUCCEEDED', 1],
      ]);
    });

  it('starts no step while engaged, survives a runner restart, and resumes paused tasks on release', async () => {
    const engaged = await governance.execute(
      ann,
      'mutation { engageKillSwitch(reason: "Audit in progress") { engaged } }',
    );
    expect(engaged.data).toEqual({ engageKillSwitch: { engaged: true } });
    await eventually(async () => {
      const rows = await db.asSuperuser<{ engaged: boolean }>('select engaged from agent.kill_switch_state');
      return rows[0]?.engaged === true;
    }, "the runners' copy to be engaged");
    const first = await create([{ tool: 'notes.create', input: { title: 'while engaged' } }]);
    expect((await until(first, 'PAUSED')).steps).toEqual([
      { tool: 'notes.create', status: 'PENDING', attempts: 0 },
    ]);

    // The state is in Postgres: a restarted runner still starts nothing.
    await running!.close();
    running = await startWorker(orm, transport, runner, issuer, db.appUrl);
    const second = await create([{ tool: 'notes.create', input: { title: 'after restart' } }]);
    expect((await until(second, 'PAUSED')).steps[0]).toMatchObject({ status: 'PENDING', attempts: 0 });

    // Only an Admin releases it; then both tasks resume where they were, each step once.
    const byApprover = await governance.execute(ann, 'mutation { releaseKillSwitch { engaged } }');
    expect(byApprover.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await governance.execute(ada, 'mutation { releaseKillSwitch { engaged } }')).data).toEqual({
      releaseKillSwitch: { engaged: false },
    });
    expect((await until(first, 'COMPLETED')).steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect((await until(second, 'COMPLETED')).steps[0]).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    const notes = await db.asSuperuser<{ title: string; n: string }>(
      "select title, count(*) as n from agent.notes where title in ('while engaged', 'after restart') group by title order by title",
    );
    expect(notes.map((n) => [n.title, Number(n.n)])).toEqual([
      ['after restart', 1],
      ['while engaged', 1],
    ]);
  });
});
