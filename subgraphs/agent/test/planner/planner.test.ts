// The LLM planner end to end in one process: the agent subgraph, its runners (agent-runner with a
// planner talking to a local chat-completions server, agent-approvals) and governance's approvals,
// on one database and event bus. The chat client is the real one; the model is scripted.
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createPromptVersion } from '#llm/prompts/prompt-store.ts';
import { type FakeChatServer, reply } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import type { TestDatabase } from '#testing/test-database.ts';
import { eventually } from '../../../../events/test/support.ts';
import { type AgentConfig, loadAgentConfig } from '../../src/config.ts';
import type { Planner } from '../../src/planner/planner.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { call, goalOf, type Script, toolResults } from './scripted-model.ts';
import { type PlannerSuite, startPlannerSuite } from './support.ts';

let suite: PlannerSuite;
let db: TestDatabase;
let model: FakeChatServer;
let config: AgentConfig;
let agent: SubgraphHarness;
let offlineAgent: SubgraphHarness;
let governance: SubgraphHarness;
let orm: MikroORM;
// Bounds are the runner's: tests that hit one tighten this object, and afterEach puts it back.
let planner: Planner;
let scripts: Map<string, Script>;
let carl: Identity; // Contributor: owns the tasks
let ann: Identity; // Approver
let gus: Identity; // Contributor of another tenant

beforeAll(async () => {
  suite = await startPlannerSuite({ approvals: true });
  ({ db, model, config, agent, governance, orm, planner, scripts } = suite);
  const offline = loadAgentConfig({});
  offlineAgent = await createSubgraphHarness(createAgentSubgraph(offline, testTools(offline)), db);
  carl = await agent.identity('acme', 'carl', ['Contributor']);
  ann = await agent.identity('acme', 'ann', ['Approver']);
  gus = await agent.identity('globex', 'gus', ['Contributor']);
});
afterAll(async () => {
  await offlineAgent?.close();
  await suite?.close();
});
afterEach(() => {
  planner.bounds.maxSteps = config.planner.maxSteps;
  planner.bounds.maxTokens = config.planner.maxTokens;
  planner.bounds.maxTimeMs = config.planner.maxTimeMs;
});

const CREATE = `mutation ($goal: String!) { createTask(input: { goal: $goal, planner: LLM }) { id status planner } }`;
const TASK = `query ($id: ID!) { task(id: $id) { status planner answer plannerError
  plannerUsage { modelCalls toolCalls promptTokens completionTokens totalTokens modelMs }
  steps { ordinal tool status input output error riskLevel attempts approvalId } } }`;

type Step = {
  ordinal: number;
  tool: string;
  status: string;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  riskLevel: string;
  attempts: number;
  approvalId: string | null;
};
type TaskView = {
  status: string;
  planner: string;
  answer: string | null;
  plannerError: string | null;
  plannerUsage: Record<string, number> | null;
  steps: Step[];
};

const taskOf = async (id: string, who = carl) =>
  (await agent.execute(who, TASK, { id })).data?.task as TaskView | null;
const until = async (id: string, status: string) => {
  await eventually(async () => (await taskOf(id))?.status === status, `task ${status}`);
  return (await taskOf(id))!;
};
/** Creates a planned task for `goal` with the model following `script`. */
async function plan(goal: string, script: Script, who = carl): Promise<string> {
  scripts.set(goal, script);
  const created = await agent.execute(who, CREATE, { goal });
  expect(created.errors).toBeUndefined();
  expect(created.data?.createTask).toMatchObject({ status: 'PENDING', planner: 'LLM' });
  return (created.data!.createTask as { id: string }).id;
}
const requestsFor = (goal: string) => model.requests.filter((r) => goalOf(r) === goal);

describe('the LLM planner', () => {
  it('plans a goal into two tool calls, runs them as steps, and stores the final answer', async () => {
    const goal = 'Write down the plan and mark it done';
    const id = await plan(goal, (messages) => {
      const results = toolResults(messages);
      if (results.length === 0)
        return { toolCalls: [call('c1', 'notes_create', { title: 'The plan', body: 'ship' })] };
      if (results.length === 1) return { toolCalls: [call('c2', 'test_effect', { label: 'plan done' })] };
      return { pieces: ['Wrote the note "The plan" and marked it done.'] };
    });
    const done = await until(id, 'COMPLETED');
    expect(done.steps.map((s) => [s.ordinal, s.tool, s.status, s.riskLevel, s.attempts])).toEqual([
      [0, 'notes.create', 'SUCCEEDED', 'MEDIUM', 1],
      [1, 'test.effect', 'SUCCEEDED', 'MEDIUM', 1],
    ]);
    expect(done.steps[0]?.input).toEqual({ title: 'The plan', body: 'ship' });
    expect(done.answer).toBe('Wrote the note "The plan" and marked it done.');
    expect(done.plannerError).toBeNull();
    expect(done.plannerUsage).toMatchObject({
      modelCalls: 3,
      toolCalls: 2,
      promptTokens: 30,
      completionTokens: 15,
      totalTokens: 45,
    });

    const sent = requestsFor(goal);
    expect(sent).toHaveLength(3);
    // The registry's tools are offered with their JSON schema; the model's names have no dots.
    const offered = sent[0]!.body.tools as {
      type: string;
      function: { name: string; parameters: unknown };
    }[];
    expect(offered.map((t) => t.function.name)).toEqual(
      expect.arrayContaining(['notes_create', 'email_send', 'http_get', 'test_effect']),
    );
    expect(offered.find((t) => t.function.name === 'notes_create')?.function.parameters).toMatchObject({
      type: 'object',
      properties: { title: { type: 'string' } },
    });
    // Each result goes back as a tool message naming its call.
    const last = sent[2]!.body.messages as { role: string; tool_call_id?: string; content: string }[];
    expect(last.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'tool']);
    expect(last[3]).toMatchObject({ tool_call_id: 'c1' });
    expect(JSON.parse(last[3]!.content)).toEqual({ status: 'SUCCEEDED', output: done.steps[0]!.output });

    const notes = await db.asSuperuser<{ title: string }>(
      "select title from agent.notes where title in ('The plan', 'plan done')",
    );
    expect(notes.map((n) => n.title).sort()).toEqual(['The plan', 'plan done']);
    const audit = await db.asSuperuser<{ action: string; actor_kind: string }>(
      `select action, actor_kind from audit.audit_events where target_id in
         (select id::text from agent.task_steps where task_id = $1) order by seq`,
      [id],
    );
    expect(audit).toEqual([
      { action: 'agent.tool.notes.create', actor_kind: 'service' },
      { action: 'agent.tool.test.effect', actor_kind: 'service' },
    ]);
    // Each model call too, as the agent for carl.
    const turns = await db.asSuperuser<{ outcome: string; actor_kind: string; on_behalf_of: string }>(
      `select outcome, actor_kind, on_behalf_of from audit.audit_events
        where action = 'agent.planner.turn' and target_id = $1 order by seq`,
      [id],
    );
    expect(turns.map((t) => [t.outcome, t.actor_kind, t.on_behalf_of])).toEqual(
      Array(3).fill(['success', 'service', `carl@acme (${carl.subjectId})`]),
    );
  });

  it('a HIGH tool call waits for approval of its exact arguments, then runs and the model continues', async () => {
    const goal = 'Mail the board the numbers';
    const mail = { to: ['board@example.com'], subject: 'Numbers', body: 'Up 12%.' };
    const id = await plan(goal, (messages) =>
      toolResults(messages).length === 0
        ? { toolCalls: [call('m1', 'email_send', mail)] }
        : { pieces: ['Mailed the board.'] },
    );
    const waiting = await until(id, 'WAITING_FOR_APPROVAL');
    expect(waiting.steps.map((s) => [s.tool, s.status, s.riskLevel])).toEqual([
      ['email.send', 'WAITING_FOR_APPROVAL', 'HIGH'],
    ]);
    let approval: { id: string; tool: string; arguments: unknown } | undefined;
    await eventually(async () => {
      const edges = (
        (
          await governance.execute(
            ann,
            '{ approvalRequests(status: PENDING, first: 100) { edges { node { id tool arguments task { id } } } } }',
          )
        ).data!.approvalRequests as {
          edges: { node: { id: string; tool: string; arguments: unknown; task: { id: string } } }[];
        }
      ).edges;
      approval = edges.map((e) => e.node).find((a) => a.task.id === id);
      return approval !== undefined;
    }, 'the approval request');
    expect(approval).toMatchObject({ tool: 'email.send', arguments: mail });
    await eventually(
      async () => (await taskOf(id))?.steps[0]?.approvalId === approval!.id,
      'the step to know its request',
    );
    // The model is not asked again while the call waits.
    expect(requestsFor(goal)).toHaveLength(1);
    expect((await agent.execute(carl, '{ sentMails { to } }')).data?.sentMails).toEqual([]);

    const decided = await governance.execute(
      ann,
      'mutation ($input: DecideApprovalInput!) { decideApproval(input: $input) { status } }',
      { input: { id: approval!.id, decision: 'APPROVE', comment: 'ok' } },
    );
    expect(decided.data?.decideApproval).toEqual({ status: 'APPROVED' });
    const done = await until(id, 'COMPLETED');
    expect(done.steps.map((s) => [s.tool, s.status])).toEqual([['email.send', 'SUCCEEDED']]);
    expect(done.answer).toBe('Mailed the board.');
    expect(requestsFor(goal)).toHaveLength(2);
    expect((await agent.execute(carl, '{ sentMails { to subject } }')).data?.sentMails).toEqual([
      { to: mail.to, subject: mail.subject },
    ]);
  });

  it('feeds malformed tool calls back to the model as errors, and runs none of them', async () => {
    const goal = 'Survive a confused model';
    const id = await plan(goal, (messages) => {
      const results = toolResults(messages);
      if (results.length === 0) {
        return {
          toolCalls: [
            call('bad1', 'files_delete', { path: '/' }),
            call('bad2', 'notes_create', '{"title": "cut'),
            call('bad3', 'notes_create', { body: 'no title' }),
          ],
        };
      }
      if (results.length === 3) return { toolCalls: [call('ok1', 'notes_create', { title: 'Recovered' })] };
      return { pieces: ['Recovered after three bad calls.'] };
    });
    const done = await until(id, 'COMPLETED');
    expect(done.steps.map((s) => [s.tool, s.status, s.input])).toEqual([
      ['notes.create', 'SUCCEEDED', { title: 'Recovered', body: '' }],
    ]);
    expect(done.plannerUsage).toMatchObject({ modelCalls: 3, toolCalls: 4 });
    const second = requestsFor(goal)[1]!.body.messages as {
      role: string;
      tool_call_id?: string;
      content: string;
    }[];
    const errors = Object.fromEntries(
      second
        .filter((m) => m.role === 'tool')
        .map((m) => [m.tool_call_id, JSON.parse(m.content).error as string]),
    );
    expect(errors.bad1).toMatch(/unknown tool "files_delete"/);
    expect(errors.bad2).toMatch(/arguments of notes_create must be a JSON object/);
    expect(errors.bad3).toMatch(/^arguments\.title: .*\(tool notes\.create\)$/);
    const audited = await db.asSuperuser<{ n: string }>(
      `select count(*) as n from audit.audit_events where target_id in (select id::text from agent.task_steps where task_id = $1)`,
      [id],
    );
    expect(Number(audited[0]?.n)).toBe(1);
  });
  it('fails the task clearly when the model refuses the call, and writes nothing', async () => {
    const goal = 'Plan with a revoked key';
    const id = await plan(goal, () => reply.status(401, {}, 'Incorrect API key provided: sk-abc***'));
    const failed = await until(id, 'FAILED');
    expect(failed.plannerError).toMatch(/^the language model failed: .*(401|refused)/);
    expect(failed.plannerError).not.toMatch(/sk-abc/);
    expect(failed.steps).toEqual([]);
    const turns = await db.asSuperuser<{ outcome: string }>(
      `select outcome from audit.audit_events where action = 'agent.planner.turn' and target_id = $1`,
      [id],
    );
    expect(turns).toEqual([{ outcome: 'failed' }]);
  });
});

describe('the planner bounds', () => {
  it('fails the task when the model proposes more tool calls than AGENT_PLANNER_MAX_STEPS', async () => {
    planner.bounds.maxSteps = 2;
    const goal = 'Write notes forever';
    const id = await plan(goal, (messages) => ({
      toolCalls: [
        call(`n${toolResults(messages).length}`, 'notes_create', {
          title: `loop ${toolResults(messages).length}`,
        }),
      ],
    }));
    const failed = await until(id, 'FAILED');
    expect(failed.plannerError).toBe('the model proposed 3 tool calls, more than AGENT_PLANNER_MAX_STEPS=2');
    expect(failed.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
  });

  it('fails the task when the model calls use more than AGENT_PLANNER_MAX_TOKENS', async () => {
    planner.bounds.maxTokens = 100;
    const goal = 'Think very hard';
    const id = await plan(goal, () => ({
      toolCalls: [call('t1', 'notes_create', { title: 'never planned' })],
      usage: { prompt_tokens: 80, completion_tokens: 30 },
    }));
    const failed = await until(id, 'FAILED');
    expect(failed.plannerError).toBe('the model used 110 tokens, more than AGENT_PLANNER_MAX_TOKENS=100');
    expect(failed.steps).toEqual([]);
    expect(failed.plannerUsage).toMatchObject({ modelCalls: 1, totalTokens: 110 });
  });

  it('fails the task when its time reaches AGENT_PLANNER_MAX_TIME_MS, aborting the model call', async () => {
    planner.bounds.maxTimeMs = 300;
    const goal = 'Wait for a model that never answers';
    const id = await plan(goal, () => 'hang');
    const failed = await until(id, 'FAILED');
    expect(failed.plannerError).toBe(
      'the task reached AGENT_PLANNER_MAX_TIME_MS=300 while the model was answering',
    );
    await model.clientClosed(1);
    expect(failed.steps).toEqual([]);
  });
});

describe('refusals and isolation', () => {
  it('refuses a task for the LLM planner when no language model is configured, naming the setting', async () => {
    const refused = await offlineAgent.execute(carl, CREATE, { goal: 'Plan without a model' });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(
      /LLM_PROVIDER=offline\): set LLM_PROVIDER to openai or azure/,
    );
    // A caller-given plan still works offline.
    const given = await offlineAgent.execute(
      carl,
      'mutation { createTask(input: { goal: "Given", steps: [{ tool: "notes.create", input: { title: "given" } }] }) { planner status } }',
    );
    expect(given.errors).toBeUndefined();
    expect(given.data?.createTask).toEqual({ planner: 'CALLER', status: 'PENDING' });
  });

  it('refuses steps together with planner LLM', async () => {
    const refused = await agent.execute(
      carl,
      'mutation { createTask(input: { goal: "Both", planner: LLM, steps: [{ tool: "notes.create", input: { title: "x" } }] }) { id } }',
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/either steps or planner LLM/);
  });

  it("keeps a planned task, its steps and its conversation in the owner's tenant", async () => {
    const goal = 'A globex secret plan';
    const id = await plan(
      goal,
      (messages) =>
        toolResults(messages).length === 0
          ? { toolCalls: [call('g1', 'notes_create', { title: 'globex secret' })] }
          : { pieces: ['Noted.'] },
      gus,
    );
    await eventually(async () => (await taskOf(id, gus))?.status === 'COMPLETED', 'the globex task');
    expect(await taskOf(id, carl)).toBeNull();
    const carlNotes = (await agent.execute(carl, '{ notes(first: 100) { title } }')).data?.notes as {
      title: string;
    }[];
    expect(carlNotes.map((n) => n.title)).not.toContain('globex secret');
    const gusNotes = (await agent.execute(gus, '{ notes(first: 100) { title } }')).data?.notes as {
      title: string;
    }[];
    expect(gusNotes.map((n) => n.title)).toEqual(['globex secret']);
    const rows = await db.asSuperuser<{ tenants: string; n: string }>(
      `select count(distinct m.tenant_id) as tenants, count(*) as n from agent.task_messages m
         join agent.tasks t on t.id = m.task_id and t.tenant_id = m.tenant_id where m.task_id = $1`,
      [id],
    );
    expect([Number(rows[0]?.tenants), Number(rows[0]?.n)]).toEqual([1, 5]);
    // Row-level security: acme's tenant context sees none of globex's conversation.
    const seen = await withTenant(orm, carl.tenantId, (em) =>
      em.execute('select count(*) as n from agent.task_messages where task_id = ?', [id]),
    );
    expect(Number(seen[0]?.n)).toBe(0);
    const own = await withTenant(orm, gus.tenantId, (em) =>
      em.execute('select count(*) as n from agent.task_messages where task_id = ?', [id]),
    );
    expect(Number(own[0]?.n)).toBe(5);
  });
});

describe('the planner prompt (ADR 0038)', () => {
  it("opens a task's conversation with the tenant's current agent.planner version, kept for every turn", async () => {
    const ivy = await agent.identity('initech', 'ivy', ['Contributor']);
    await withTenant(orm, ivy.tenantId, (em) =>
      createPromptVersion(
        em,
        ivy.tenantId,
        {
          name: 'agent.planner',
          system: 'Initech planner for {{owner}}. Tools:\n{{tools}}',
          user: '{{goal}}',
        },
        'ivy',
      ),
    );
    const goal = 'Note the Initech standup';
    const id = await plan(
      goal,
      (messages) =>
        toolResults(messages).length === 0
          ? { toolCalls: [call('n1', 'notes_create', { title: 'standup', body: '9:30' })] }
          : { pieces: ['Noted the standup.'] },
      ivy,
    );
    await eventually(async () => (await taskOf(id, ivy))?.status === 'COMPLETED', 'the initech task');
    const sent = requestsFor(goal);
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      const system = (request.body.messages as { role: string; content: string }[])[0]!;
      expect(system.role).toBe('system');
      expect(system.content).toMatch(/^Initech planner for ivy@initech\. Tools:\n- email_send: /);
      expect(system.content).toContain('\n- notes_create: Writes a new note');
    }
    const [task] = await db.asSuperuser<{ planner_prompt_version: number }>(
      'select planner_prompt_version from agent.tasks where id = $1',
      [id],
    );
    expect(task?.planner_prompt_version).toBe(1);
    // Every turn's generation names the version and its variables (so a replay can render another).
    const turns = await db.asSuperuser<{
      prompt_name: string;
      prompt_version: number;
      prompt_variables: unknown;
    }>(
      `select prompt_name, prompt_version, prompt_variables from observability.generations
        where task_id = $1 and purpose = 'planner' order by created_at`,
      [id],
    );
    expect(turns.map((t) => [t.prompt_name, t.prompt_version])).toEqual([
      ['agent.planner', 1],
      ['agent.planner', 1],
    ]);
    const variables = (
      typeof turns[0]!.prompt_variables === 'string'
        ? JSON.parse(turns[0]!.prompt_variables)
        : turns[0]!.prompt_variables
    ) as Record<string, string>;
    expect(variables).toMatchObject({ goal, owner: 'ivy@initech' });
    // Another tenant's tasks open with the built-in version 0.
    const others = await db.asSuperuser<{ v: number | null }>(
      `select distinct planner_prompt_version as v from agent.tasks
        where tenant_id <> $1 and planner = 'LLM' and planner_prompt_version is not null`,
      [ivy.tenantId],
    );
    expect(others.map((o) => o.v)).toEqual([0]);
  });
});
