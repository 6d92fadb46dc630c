// The planner's model calls are generations of the agent for the task's owner (ADR 0037): recorded
// in the turn's transaction with the task id, failed calls too, and refused before the call when the
// owner's monthly token budget is spent.
import type { Identity } from '#kernel/auth/identity.ts';
import { reply } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { eventually } from '../../../../events/test/support.ts';
import { auditSubgraph } from '../../../audit/src/subgraph.ts';
import { goalOf } from './scripted-model.ts';
import { type PlannerSuite, startPlannerSuite } from './support.ts';

let suite: PlannerSuite;
let audit: SubgraphHarness;
let carl: Identity;
let ada: Identity;

const CREATE = `mutation ($goal: String!) { createTask(input: { goal: $goal, planner: LLM }) { id } }`;
const TASK = 'query ($id: ID!) { task(id: $id) { status plannerError } }';
const GENERATIONS = `query ($taskId: ID) { generations(filter: { taskId: $taskId }) { edges { node {
  actorKind purpose userId userName taskId provider model responseModel inputTokens outputTokens status errorType input output } } } }`;

async function plan(goal: string, answer: Parameters<PlannerSuite['scripts']['set']>[1]): Promise<string> {
  suite.scripts.set(goal, answer);
  const created = await suite.agent.execute(carl, CREATE, { goal });
  expect(created.errors).toBeUndefined();
  return (created.data!.createTask as { id: string }).id;
}

async function finished(id: string) {
  let task: { status: string; plannerError: string | null } | undefined;
  await eventually(async () => {
    task = (await suite.agent.execute(carl, TASK, { id })).data?.task as typeof task;
    return task?.status === 'COMPLETED' || task?.status === 'FAILED';
  }, `task ${id} finished`);
  return task!;
}

// biome-ignore lint/suspicious/noExplicitAny: generations as the API returns them
async function generationsOf(taskId: string): Promise<any[]> {
  const result = await audit.execute(ada, GENERATIONS, { taskId });
  expect(result.errors).toBeUndefined();
  return (result.data!.generations as { edges: { node: unknown }[] }).edges.map((e) => e.node);
}

beforeAll(async () => {
  suite = await startPlannerSuite();
  audit = await createSubgraphHarness(auditSubgraph, suite.db);
  carl = await suite.agent.identity('acme', 'carl', ['Contributor']);
  ada = await audit.identity('acme', 'ada', ['Admin']);
}, 60_000);
afterAll(async () => {
  await audit?.close();
  await suite?.close();
});

describe('planner generations', () => {
  it('record each model call as the agent for the task owner, with the task id', async () => {
    const goal = 'Say hello to carl@example.com';
    const id = await plan(goal, () => ({
      pieces: ['Hello.'],
      usage: { prompt_tokens: 120, completion_tokens: 30 },
      model: 'planner-test-1',
    }));
    expect((await finished(id)).status).toBe('COMPLETED');
    const [generation] = await generationsOf(id);
    expect(generation).toMatchObject({
      actorKind: 'AGENT',
      purpose: 'planner',
      userId: carl.subjectId,
      userName: carl.displayName,
      taskId: id,
      provider: 'openai',
      model: 'planner-test',
      responseModel: 'planner-test-1',
      inputTokens: 120,
      outputTokens: 30,
      status: 'SUCCEEDED',
      output: 'Hello.',
    });
    const input = JSON.parse(generation.input);
    expect(input.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
    expect(input.messages[1].content).toBe('Say hello to [REDACTED:email]');
    expect(input.tools.length).toBeGreaterThan(0);
  });

  it('record a failed model call as FAILED', async () => {
    const id = await plan('Plan with a revoked key', () =>
      reply.status(401, {}, 'Incorrect API key provided: sk-abc***'),
    );
    expect((await finished(id)).status).toBe('FAILED');
    expect(await generationsOf(id)).toEqual([
      expect.objectContaining({
        actorKind: 'AGENT',
        taskId: id,
        status: 'FAILED',
        errorType: 'unauthorized',
      }),
    ]);
  });

  it('fail the task with BUDGET_EXCEEDED’s message when the owner’s budget is spent, without asking the model', async () => {
    const set = await audit.execute(
      ada,
      'mutation ($input: SetTokenBudgetInput!) { setTokenBudget(input: $input) { usedTokens } }',
      { input: { userId: carl.subjectId, monthlyTokens: 150 } },
    );
    expect(set.data).toEqual({ setTokenBudget: { usedTokens: 150 } });
    const goal = 'Plan past the budget';
    const id = await plan(goal, () => ({ pieces: ['never asked'] }));
    const task = await finished(id);
    expect(task.status).toBe('FAILED');
    expect(task.plannerError).toMatch(
      new RegExp(
        `^the language model failed: The monthly token budget of user ${carl.subjectId} \\(150 tokens\\) would be exceeded: 150 tokens used this month`,
      ),
    );
    expect(suite.model.requests.filter((r) => goalOf(r) === goal)).toEqual([]);
    expect(await generationsOf(id)).toEqual([]);
  });
});
