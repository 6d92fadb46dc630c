// The kill switch and the LLM planner: no model call starts while the switch is engaged, a model
// call in flight is aborted through the runner's AbortSignal (native PostgreSQL: see the runner's
// kill-switch suite for why not on PGlite), and released tasks resume their conversation.
import type { Identity } from '#kernel/auth/identity.ts';
import type { FakeChatServer } from '#testing/fake-chat-server.ts';
import type { SubgraphHarness } from '#testing/subgraph-harness.ts';
import { type TestDatabase, testDatabaseKind } from '#testing/test-database.ts';
import { eventually } from '../../../../events/test/support.ts';
import { call, goalOf, type Script, toolResults } from './scripted-model.ts';
import { type PlannerSuite, startPlannerSuite } from './support.ts';

let suite: PlannerSuite;
let db: TestDatabase;
let model: FakeChatServer;
let agent: SubgraphHarness;
let governance: SubgraphHarness;
let scripts: Map<string, Script>;
let carl: Identity;
let ann: Identity;
let ada: Identity;

beforeAll(async () => {
  suite = await startPlannerSuite();
  ({ db, model, agent, governance, scripts } = suite);
  carl = await agent.identity('acme', 'carl', ['Contributor']);
  ann = await agent.identity('acme', 'ann', ['Approver']);
  ada = await agent.identity('acme', 'ada', ['Admin']);
});
afterAll(() => suite?.close());

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
