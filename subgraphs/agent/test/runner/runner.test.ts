import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, makeTransport } from '../../../../events/test/support.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { createAgentRunner, RUNNER_ENTITIES } from '../../src/consumers/runner.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { startWorker } from './support.ts';

let db: TestDatabase;
let issuer: TestIssuer;
let agent: SubgraphHarness;
let orm: MikroORM;
let transport: StreamTransport;
let running: Awaited<ReturnType<typeof startWorker>>;
let alice: Identity;
let server: Server;
let host: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadAgentConfig({ AGENT_HTTP_ALLOWED_HOSTS: `${host},127.0.0.1:9` });
  const tools = testTools(config);
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  agent = await createSubgraphHarness(createAgentSubgraph(config, tools), db);
  alice = await agent.identity('acme', 'alice', ['Contributor']);
  orm = await createOrm({ url: db.appUrl, entities: RUNNER_ENTITIES, poolMax: 6 });
  transport = makeTransport('redis', db);
  running = await startWorker(
    orm,
    transport,
    createAgentRunner({ tools, steps: config.steps }),
    issuer,
    db.appUrl,
  );
});
afterAll(async () => {
  await running?.close();
  await transport?.destroy(['task.step_ready', 'killswitch.changed']);
  await transport?.close();
  await orm?.close();
  await agent?.close();
  await db?.close();
  await issuer?.close();
  await new Promise((r) => server?.close(r));
});

const CREATE = `mutation ($goal: String!, $steps: [TaskStepInput!]) {
  createTask(input: { goal: $goal, steps: $steps }) { id status } }`;
const TASK = `query ($id: ID!) { task(id: $id) { status goal steps { ordinal tool status input output error attempts maxAttempts idempotencyKey riskLevel startedAt finishedAt } } }`;

type Step = {
  ordinal: number;
  tool: string;
  status: string;
  output: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  idempotencyKey: string;
  riskLevel: string;
  startedAt: string | null;
  finishedAt: string | null;
};
const task = async (id: string) =>
  (await agent.execute(alice, TASK, { id })).data?.task as { status: string; steps: Step[] };
const until = async (id: string, status: string) => {
  await eventually(async () => (await task(id)).status === status, `task ${status}`);
  return task(id);
};

describe('agent-runner: caller-given plans', () => {
  it('runs a plan end to end, storing each step and auditing each call as the agent for the owner', async () => {
    const created = await agent.execute(alice, CREATE, {
      goal: 'Check the status page and note it',
      steps: [
        { tool: 'http.get', input: { url: `http://${host}/status` } },
        { tool: 'notes.create', input: { title: 'Status checked', body: 'all green' } },
        { tool: 'test.effect', input: { label: 'done' } },
      ],
    });
    expect(created.errors).toBeUndefined();
    const id = (created.data!.createTask as { id: string }).id;
    const done = await until(id, 'COMPLETED');
    expect(done.steps.map((s) => [s.tool, s.status, s.attempts, s.riskLevel])).toEqual([
      ['http.get', 'SUCCEEDED', 1, 'SAFE'],
      ['notes.create', 'SUCCEEDED', 1, 'MEDIUM'],
      ['test.effect', 'SUCCEEDED', 1, 'MEDIUM'],
    ]);
    expect(done.steps[0]?.output).toMatchObject({ status: 200, body: JSON.stringify({ path: '/status' }) });
    for (const step of done.steps) {
      expect(Date.parse(step.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(step.startedAt!));
      expect(step.idempotencyKey).toMatch(/^step:[0-9a-f-]{36}$/);
    }
    const notes = (await agent.execute(alice, '{ notes { title body } }')).data?.notes;
    expect(notes).toEqual(expect.arrayContaining([{ title: 'Status checked', body: 'all green' }]));
    const audit = await db.asSuperuser<{ action: string; actor_kind: string; on_behalf_of: string }>(
      `select action, actor_kind, on_behalf_of from audit.audit_events where action like 'agent.tool.%' order by seq`,
    );
    expect(audit.map((a) => a.action)).toEqual([
      'agent.tool.http.get',
      'agent.tool.notes.create',
      'agent.tool.test.effect',
    ]);
    for (const row of audit) {
      expect(row.actor_kind).toBe('service');
      expect(row.on_behalf_of).toBe(`alice@acme (${alice.subjectId})`);
    }
  });

  it('retries a failing step up to its cap, then fails the step and the task', async () => {
    // Port 9 (discard) on localhost refuses connections: every attempt fails.
    const created = await agent.execute(alice, CREATE, {
      goal: 'Reach a dead host',
      steps: [
        { tool: 'http.get', input: { url: 'http://127.0.0.1:9/' } },
        { tool: 'notes.create', input: { title: 'never written' } },
      ],
    });
    const id = (created.data!.createTask as { id: string }).id;
    const failed = await until(id, 'FAILED');
    expect(failed.steps[0]).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(failed.steps[0]?.error).toMatch(/\(after 3 attempts\)$/);
    expect(failed.steps[1]).toMatchObject({ status: 'PENDING', attempts: 0 });
    const audited = await db.asSuperuser<{ outcome: string }>(
      `select a.outcome from audit.audit_events a where a.action = 'agent.tool.http.get' and a.target_id in
         (select id::text from agent.task_steps where task_id = $1) order by seq`,
      [id],
    );
    expect(audited.map((a) => a.outcome)).toEqual(['failed', 'failed', 'failed']);
  });

  it('performs each step once: two reads, two requests, two audit records', async () => {
    const before = hits;
    const planned = await agent.execute(alice, CREATE, {
      goal: 'Two reads',
      steps: [
        { tool: 'http.get', input: { url: `http://${host}/a` } },
        { tool: 'http.get', input: { url: `http://${host}/b` } },
      ],
    });
    const id = (planned.data!.createTask as { id: string }).id;
    await until(id, 'COMPLETED');
    expect(hits - before).toBe(2);
    const audited = await db.asSuperuser<{ n: string }>(
      `select count(*) as n from audit.audit_events where action = 'agent.tool.http.get' and target_id in
         (select id::text from agent.task_steps where task_id = $1)`,
      [id],
    );
    expect(Number(audited[0]?.n)).toBe(2);
  });
});
