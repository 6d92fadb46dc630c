// Runner processes planning a task are SIGKILLed twice: once while the model is answering, once in
// the middle of a step the model proposed (after the step's effect, before its commit). Other
// runners of the group take the task over from the stored steps and conversation: the abandoned
// model turn is asked again, and no step is planned or performed twice.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { type FakeChatServer, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, REDIS_URL, workerIdentityEnv } from '../../../../events/test/support.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { spawnRunner } from '../runner/support.ts';
import { call, goalOf, type Script, scripted, toolResults } from './scripted-model.ts';

const prefix = `wtdc-planner-crash:${randomBytes(5).toString('hex')}:`;
const hangFile = join(tmpdir(), `wtdc-planner-hang-${randomBytes(5).toString('hex')}`);
const children = new Set<ChildProcess>();
const scripts = new Map<string, Script>();
let model: FakeChatServer;
let db: TestDatabase;
let issuer: TestIssuer;
let identity: Awaited<ReturnType<typeof workerIdentityEnv>>;
let agent: SubgraphHarness;
let alice: Identity;

beforeAll(async () => {
  model = await startFakeChatServer(scripted(scripts));
  issuer = await startTestIssuer();
  identity = await workerIdentityEnv(issuer);
  db = await createTestDatabase();
  const config = loadAgentConfig({ LLM_PROVIDER: 'openai', LLM_ENDPOINT: model.baseUrl, LLM_MODEL: 'crash' });
  agent = await createSubgraphHarness(createAgentSubgraph(config, testTools(config)), db);
  alice = await agent.identity('crashco', 'alice', ['Contributor']);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  await transport.destroy(['task.step_ready', 'killswitch.changed']);
  await transport.close();
  await rm(hangFile, { force: true });
  await rm(`${hangFile}.started`, { force: true });
  await agent?.close();
  await db?.close();
  await identity?.close();
  await issuer?.close();
  await model?.close();
});

function startRunner(): ChildProcess {
  return spawnRunner(
    {
      databaseUrl: db.appUrl,
      prefix,
      hangFile,
      identityEnv: identity.env,
      env: { LLM_PROVIDER: 'openai', LLM_ENDPOINT: model.baseUrl, LLM_MODEL: 'crash', LLM_MAX_RETRIES: '0' },
    },
    children,
  );
}

async function kill(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
}

const TASK = `query ($id: ID!) { task(id: $id) { status answer plannerUsage { toolCalls }
  steps { tool status attempts input } } }`;

describe('runners killed while planning', () => {
  it('resume from the stored conversation and steps; no step is planned or performed twice', async () => {
    const goal = 'Survive two crashes';
    let modelHangs = true;
    scripts.set(goal, (messages) => {
      const done = toolResults(messages).length;
      if (done === 0) return { toolCalls: [call('c0', 'test_effect', { label: 'p-before' })] };
      if (done === 1) {
        if (modelHangs) return 'hang';
        return { toolCalls: [call('c1', 'test_effect', { label: 'p-interrupted' })] };
      }
      return { pieces: ['Both effects written.'] };
    });
    const asked = (turn: number) =>
      model.requests.filter((r) => goalOf(r) === goal && toolResults(r.body.messages).length === turn).length;
    await writeFile(hangFile, 'p-interrupted');
    const first = startRunner();
    const created = await agent.execute(
      alice,
      'mutation ($goal: String!) { createTask(input: { goal: $goal, planner: LLM }) { id } }',
      { goal },
    );
    expect(created.errors).toBeUndefined();
    const id = (created.data!.createTask as { id: string }).id;

    // Crash 1: the first runner has run step 0 and waits for the model's second turn.
    await eventually(async () => asked(1) === 1, 'the second model turn to be asked');
    await kill(first);
    modelHangs = false;
    // Crash 2: the second runner asks that turn again, and hangs in the step it proposes, after its effect.
    const second = startRunner();
    await eventually(async () => existsSync(`${hangFile}.started`), 'the proposed step to start', 90_000);
    await kill(second);
    await rm(hangFile);
    startRunner();
    await eventually(
      async () =>
        ((await agent.execute(alice, TASK, { id })).data?.task as { status: string } | undefined)?.status ===
        'COMPLETED',
      'the task to complete on the third runner',
      90_000,
    );
    const task = (await agent.execute(alice, TASK, { id })).data?.task as {
      answer: string;
      plannerUsage: { toolCalls: number };
      steps: { tool: string; status: string; attempts: number; input: unknown }[];
    };
    expect(task.answer).toBe('Both effects written.');
    expect(task.plannerUsage.toolCalls).toBe(2);
    expect(task.steps).toEqual([
      { tool: 'test.effect', status: 'SUCCEEDED', attempts: 1, input: { label: 'p-before' } },
      { tool: 'test.effect', status: 'SUCCEEDED', attempts: 1, input: { label: 'p-interrupted' } },
    ]);
    // The abandoned turn was asked twice; every other turn once.
    expect([asked(0), asked(1), asked(2)]).toEqual([1, 2, 1]);
    const notes = await db.asSuperuser<{ title: string; n: string }>(
      'select title, count(*) as n from agent.notes group by title order by title',
    );
    expect(notes.map((n) => [n.title, Number(n.n)])).toEqual([
      ['p-before', 1],
      ['p-interrupted', 1],
    ]);
    const messages = await db.asSuperuser<{ role: string }>(
      "select message->>'role' as role from agent.task_messages where task_id = $1 order by seq",
      [id],
    );
    expect(messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'tool',
      'assistant',
    ]);
  }, 180_000);
});
