// The kill switch and the LLM planner: no model call starts while the switch is engaged, a model
// call in flight is aborted through the runner's AbortSignal (native PostgreSQL: see the runner's
// kill-switch suite for why not on PGlite), and released tasks resume their conversation.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { type FakeChatServer, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase, testDatabaseKind } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, makeTransport } from '../../../../events/test/support.ts';
import { graphTaskLookup } from '../../../governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../../governance/src/subgraph.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { createAgentRunner, RUNNER_ENTITIES } from '../../src/consumers/runner.ts';
import { createPlanner } from '../../src/planner/planner.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { startWorker } from '../runner/support.ts';
import { call, goalOf, type Script, scripted, toolResults } from './scripted-model.ts';

let db: TestDatabase;
let issuer: TestIssuer;
let model: FakeChatServer;
let agent: SubgraphHarness;
let governance: SubgraphHarness;
let orm: MikroORM;
let transport: StreamTransport;
let running: Awaited<ReturnType<typeof startWorker>>;
const scripts = new Map<string, Script>();
let carl: Identity;
let ann: Identity;
let ada: Identity;

beforeAll(async () => {
  model = await startFakeChatServer(scripted(scripts));
  const config = loadAgentConfig({
    LLM_PROVIDER: 'openai',
    LLM_ENDPOINT: model.baseUrl,
    LLM_MODEL: 'kill-switch',
    LLM_MAX_RETRIES: '0',
  });
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
  const runner = createAgentRunner({ tools, steps: config.steps, planner: createPlanner(config) });
  running = await startWorker(orm, transport, runner, issuer, db.appUrl);
});
afterAll(async () => {
  await running?.close();
  await transport?.destroy(['task.step_ready', 'killswitch.changed']);
  await transport?.close();
  await orm?.close();
  await governance?.close();
  await agent?.close();
  await db?.close();
  await issuer?.close();
  await model?.close();
});

const TASK = 'query ($id: ID!) { task(id: $id) { status answer steps { tool status attempts } } }';
type Task = {
  status: string;
  answer: string | null;
  steps: { tool: string; status: string; attempts: number }[];
};
const taskOf = async (id: string) => (await agent.execute(carl, TASK, { id })).data?.task as Task;
const until = async (id: string, status: string) => {
  await eventually(async () => (await taskOf(id)).status === status, `task ${status}`);
  return taskOf(id);
};
async function plan(goal: string, script: Script): Promise<string> {
  scripts.set(goal, script);
  const created = await agent.execute(
    carl,
    'mutation ($goal: String!) { createTask(input: { goal: $goal, planner: LLM }) { id } }',
    { goal },
  );
  expect(created.errors).toBeUndefined();
  return (created.data!.createTask as { id: string }).id;
}
const asked = (goal: string) => model.requests.filter((r) => goalOf(r) === goal).length;
const engage = async (reason: string) => {
  const engaged = await governance.execute(
    ann,
    `mutation { engageKillSwitch(reason: "${reason}") { engaged } }`,
  );
  expect(engaged.data).toEqual({ engageKillSwitch: { engaged: true } });
};
const release = async () =>
  expect((await governance.execute(ada, 'mutation { releaseKillSwitch { engaged } }')).data).toEqual({
    releaseKillSwitch: { engaged: false },
  });
const noteThenAnswer: Script = (messages) =>
  toolResults(messages).length === 0
    ? { toolCalls: [call('k1', 'notes_create', { title: 'after release' })] }
    : { pieces: ['Noted after the release.'] };

describe('kill switch and the LLM planner', () => {
  if (testDatabaseKind() !== 'pglite')
    it('aborts the model call in flight (native PostgreSQL), pauses the task, and resumes it on release', async () => {
      const goal = 'Plan while the switch is thrown';
      let hang = true;
      const id = await plan(goal, (messages) => (hang ? 'hang' : noteThenAnswer(messages)));
      await eventually(async () => asked(goal) === 1, 'the model call to be in flight');
      await engage('Runaway planner');
      await model.clientClosed(1);
      expect((await until(id, 'PAUSED')).steps).toEqual([]);
      hang = false;
      await release();
      const done = await until(id, 'COMPLETED');
      expect(done.steps).toEqual([{ tool: 'notes.create', status: 'SUCCEEDED', attempts: 1 }]);
      expect(done.answer).toBe('Noted after the release.');
      expect(asked(goal)).toBe(3);
    });

  it('asks the model nothing while engaged; released, the task is planned and run', async () => {
    await engage('Audit in progress');
    await eventually(async () => {
      const rows = await db.asSuperuser<{ engaged: boolean }>('select engaged from agent.kill_switch_state');
      return rows[0]?.engaged === true;
    }, "the runners' copy to be engaged");
    const goal = 'Plan after the audit';
    const id = await plan(goal, noteThenAnswer);
    expect((await until(id, 'PAUSED')).steps).toEqual([]);
    expect(asked(goal)).toBe(0);
    await release();
    const done = await until(id, 'COMPLETED');
    expect(done.steps).toEqual([{ tool: 'notes.create', status: 'SUCCEEDED', attempts: 1 }]);
    expect(asked(goal)).toBe(2);
  });
});
