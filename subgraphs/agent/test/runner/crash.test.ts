// A runner process is SIGKILLed in the middle of a step, after the step's effect and before its
// commit; another runner process of the group takes the task over. The task must finish with every
// step's effect exactly once: the finished step is not repeated, the interrupted one is not doubled.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, REDIS_URL, workerIdentityEnv } from '../../../../events/test/support.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { spawnRunner } from './support.ts';

const prefix = `wtdc-agent-crash:${randomBytes(5).toString('hex')}:`;
const hangFile = join(tmpdir(), `wtdc-hang-${randomBytes(5).toString('hex')}`);
const children = new Set<ChildProcess>();
let db: TestDatabase;
let issuer: TestIssuer;
let identity: Awaited<ReturnType<typeof workerIdentityEnv>>;
let agent: SubgraphHarness;
let alice: Identity;

beforeAll(async () => {
  issuer = await startTestIssuer();
  identity = await workerIdentityEnv(issuer);
  db = await createTestDatabase();
  const config = loadAgentConfig({});
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
});

function startRunner(): ChildProcess {
  return spawnRunner({ databaseUrl: db.appUrl, prefix, hangFile, identityEnv: identity.env }, children);
}

const TASK = 'query ($id: ID!) { task(id: $id) { status steps { tool status attempts } } }';

describe('a runner killed mid-step', () => {
  it('resumes on another runner at the unfinished step and never repeats an effect', async () => {
    await writeFile(hangFile, 'interrupted');
    const first = startRunner();
    const created = await agent.execute(
      alice,
      'mutation ($s: [TaskStepInput!]) { createTask(input: { goal: "crash", steps: $s }) { id } }',
      {
        s: [
          { tool: 'test.effect', input: { label: 'before' } },
          { tool: 'notes.create', input: { title: 'middle' } },
          { tool: 'test.effect', input: { label: 'interrupted' } },
          { tool: 'test.effect', input: { label: 'after' } },
        ],
      },
    );
    expect(created.errors).toBeUndefined();
    const id = (created.data!.createTask as { id: string }).id;
    // Step 2's call hangs after its effect: the first runner has finished steps 0 and 1 and is stuck in 2.
    await eventually(async () => existsSync(`${hangFile}.started`), 'the step to start');
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    await rm(hangFile);
    startRunner();
    await eventually(
      async () => {
        const task = (await agent.execute(alice, TASK, { id })).data?.task as { status: string };
        return task.status === 'COMPLETED';
      },
      'the task to complete on the second runner',
      90_000,
    );
    const task = (await agent.execute(alice, TASK, { id })).data?.task as {
      steps: { status: string; attempts: number }[];
    };
    expect(task.steps.map((s) => [s.status, s.attempts])).toEqual([
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 1],
      ['SUCCEEDED', 1],
    ]);
    const notes = await db.asSuperuser<{ title: string; n: string }>(
      'select title, count(*) as n from agent.notes group by title order by title',
    );
    expect(notes.map((n) => [n.title, Number(n.n)])).toEqual([
      ['after', 1],
      ['before', 1],
      ['interrupted', 1],
      ['middle', 1],
    ]);
  }, 120_000);
});
