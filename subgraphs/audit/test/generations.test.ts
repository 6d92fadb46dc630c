// Generation records written by the llm package's recorder (in the caller's tenant, RLS checked) and
// read through the audit subgraph: generations, generation, usage, tokenBudgets, setTokenBudget;
// budgets refused before the call; redaction of what is stored; tenant isolation; GenAI metrics.
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  type HistogramMetricData,
  MeterProvider,
  MetricReader,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import type { Identity } from '#kernel/auth/identity.ts';
import { tenantScope } from '#kernel/db/tenant-context.ts';
import { BudgetExceededError } from '#kernel/errors.ts';
import { LlmError } from '#llm/errors.ts';
import {
  METRIC_COST,
  METRIC_OPERATION_DURATION,
  METRIC_TOKEN_USAGE,
} from '#llm/generations/generation-metrics.ts';
import { GenerationRecorder, type ModelCall } from '#llm/generations/generation-recorder.ts';
import { callerOfIdentity, type GenerationActor } from '#llm/generations/record.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { sweepGenerations } from '../src/llmops/generation-sweeper.ts';
import { auditSubgraph } from '../src/subgraph.ts';

/** Collects on demand: the in-memory reader of the test's meter provider. */
class TestMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let db: TestDatabase;
let audit: SubgraphHarness;
let admin: Identity;
let auditor: Identity;
let reader: Identity;
let bea: Identity;
let stranger: Identity;
const recorder = new GenerationRecorder();
const metricReader = new TestMetricReader();
const TASK = '0b6f2a6e-1f1e-4c7e-9d51-5b0c1a3e7f00';

const GENERATION = `id at operation purpose actorKind userId userName taskId provider model responseModel
  input output inputTokens outputTokens totalTokens costUsd latencyMs timeToFirstTokenMs status errorType errorMessage
  traceId replayOf { id } replays { id }`;
const GENERATIONS = `query ($filter: GenerationFilter, $first: Int, $after: String) {
  generations(filter: $filter, first: $first, after: $after) {
    edges { cursor node { ${GENERATION} } } pageInfo { hasNextPage endCursor } } }`;
const USAGE = `query ($from: DateTime!, $to: DateTime!, $groupBy: [UsageDimension!]!) {
  usage(from: $from, to: $to, groupBy: $groupBy) { groupBy
    rows { userId userName taskId model day calls failed inputTokens outputTokens totalTokens costUsd }
    total { calls failed inputTokens outputTokens totalTokens costUsd } } }`;
const BUDGETS =
  '{ tokenBudgets { userId monthlyTokens usedTokens remainingTokens month updatedBy updatedAt } }';
const SET_BUDGET = `mutation ($input: SetTokenBudgetInput!) {
  setTokenBudget(input: $input) { userId monthlyTokens usedTokens remainingTokens } }`;

/** A chat call of `model` for `who` (as `actor`), answering with the given usage. */
function chat(
  who: Identity,
  model: string,
  text: string,
  actor?: GenerationActor,
  taskId?: string,
): ModelCall {
  const caller = callerOfIdentity(who, actor?.kind === 'AGENT' ? 'planner' : 'answer');
  return {
    caller: { ...caller, ...(actor ? { actor } : {}), ...(taskId ? { taskId } : {}) },
    operation: 'chat',
    provider: 'openai',
    model,
    input: { messages: [{ role: 'user', content: text }] },
    estimatedTokens: Math.ceil(text.length / 4),
  };
}

async function call(who: Identity, c: ModelCall, usage: { input: number; output: number }, output = 'ok') {
  let ran = false;
  await recorder.observe(
    tenantScope(audit.orm, who.tenantId),
    c,
    async (handle) => {
      ran = true;
      handle.firstToken();
      return { text: output };
    },
    (r) => ({
      output: r.text,
      inputTokens: usage.input,
      outputTokens: usage.output,
      responseModel: `${c.model}-2024`,
    }),
  );
  return ran;
}

async function query(who: Identity, q: string, variables?: Record<string, unknown>) {
  const result = await audit.execute(who, q, variables);
  expect(result.errors).toBeUndefined();
  // biome-ignore lint/suspicious/noExplicitAny: the API's answer
  return result.data as any;
}

const from = new Date(Date.now() - 3_600_000).toISOString();
const to = new Date(Date.now() + 3_600_000).toISOString();

beforeAll(async () => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [metricReader] }));
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
  admin = await audit.identity('acme', 'ada', ['Admin']);
  auditor = await audit.identity('acme', 'audrey', ['Auditor']);
  reader = await audit.identity('acme', 'rita', ['Reader']);
  bea = await audit.identity('acme', 'bea', ['Reader']);
  stranger = await audit.identity('umbrella', 'mallory', ['Admin']);
  // ada asks twice (gpt-4o-mini), bea once (gpt-4o); an agent plans for ada; another tenant asks once.
  await call(admin, chat(admin, 'gpt-4o-mini', 'What is the port?'), { input: 1000, output: 100 });
  await call(admin, chat(admin, 'gpt-4o-mini', 'And the host?'), { input: 2000, output: 200 });
  await call(bea, chat(bea, 'gpt-4o', 'Summarise the policy'), { input: 500, output: 50 });
  await call(
    admin,
    chat(
      admin,
      'gpt-4o-mini',
      'plan',
      { kind: 'AGENT', userId: admin.subjectId, userName: admin.displayName },
      TASK,
    ),
    { input: 300, output: 30 },
  );
  await call(stranger, chat(stranger, 'gpt-4o-mini', 'theirs'), { input: 7, output: 7 });
}, 60_000);
afterAll(async () => {
  await audit?.close();
  await db?.close();
  metrics.disable();
});

describe('generation records', () => {
  it('hold who ran the call, the model, tokens, cost and timing, newest first', async () => {
    const data = await query(auditor, GENERATIONS, { first: 10 });
    const nodes = data.generations.edges.map((e: { node: unknown }) => e.node);
    expect(nodes).toHaveLength(4);
    const [agent, , , first] = nodes;
    expect(first).toMatchObject({
      operation: 'chat',
      purpose: 'answer',
      actorKind: 'USER',
      userId: admin.subjectId,
      userName: admin.displayName,
      taskId: null,
      provider: 'openai',
      model: 'gpt-4o-mini',
      responseModel: 'gpt-4o-mini-2024',
      output: 'ok',
      inputTokens: 1000,
      outputTokens: 100,
      totalTokens: 1100,
      // 1000 × 0.15 + 100 × 0.60 per 1M tokens
      costUsd: 0.00021,
      status: 'SUCCEEDED',
      errorType: null,
      replayOf: null,
      replays: [],
    });
    expect(JSON.parse(first.input)).toEqual({ messages: [{ role: 'user', content: 'What is the port?' }] });
    expect(first.latencyMs).toBeGreaterThanOrEqual(0);
    expect(first.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(agent).toMatchObject({
      actorKind: 'AGENT',
      purpose: 'planner',
      taskId: TASK,
      userId: admin.subjectId,
    });
    const one = await query(auditor, 'query ($id: ID!) { generation(id: $id) { id model } }', {
      id: first.id,
    });
    expect(one.generation).toEqual({ id: first.id, model: 'gpt-4o-mini' });
  });

  it('page with keyset cursors', async () => {
    const page1 = await query(auditor, GENERATIONS, { first: 3 });
    expect(page1.generations.pageInfo.hasNextPage).toBe(true);
    const page2 = await query(auditor, GENERATIONS, {
      first: 3,
      after: page1.generations.pageInfo.endCursor,
    });
    expect(page2.generations.edges).toHaveLength(1);
    expect(page2.generations.pageInfo.hasNextPage).toBe(false);
    const ids = [...page1.generations.edges, ...page2.generations.edges].map(
      (e: { node: { id: string } }) => e.node.id,
    );
    expect(new Set(ids).size).toBe(4);
  });

  it('record a failed call as FAILED with its error, one filter away', async () => {
    const scope = tenantScope(audit.orm, admin.tenantId);
    const failing = recorder.observe(
      scope,
      chat(admin, 'gpt-4o-mini', 'Where is the password?'),
      async () => {
        throw new LlmError(
          'The language model refused the platform’s credentials (HTTP 401) for ada@example.com',
          {
            kind: 'unauthorized',
            status: 401,
          },
        );
      },
      () => ({ inputTokens: 0, outputTokens: 0 }),
    );
    await expect(failing).rejects.toThrow(LlmError);
    const data = await query(auditor, GENERATIONS, { filter: { status: 'FAILED' } });
    expect(data.generations.edges).toHaveLength(1);
    expect(data.generations.edges[0].node).toMatchObject({
      status: 'FAILED',
      errorType: 'unauthorized',
      errorMessage: 'The language model refused the platform’s credentials (HTTP 401) for [REDACTED:email]',
      inputTokens: 0,
      costUsd: 0,
      userId: admin.subjectId,
    });
  });

  it('store input and output redacted', async () => {
    const secret = 'Mail ada@example.com, CPR 010190-1234, key sk-live-abcdefghijklmnopqrst';
    await call(
      bea,
      chat(bea, 'gpt-4o', secret),
      { input: 10, output: 10 },
      `Sent to ada@example.com (${'010190-1234'})`,
    );
    const data = await query(admin, GENERATIONS, { filter: { userId: bea.subjectId }, first: 1 });
    const node = data.generations.edges[0].node;
    for (const stored of [node.input, node.output]) {
      expect(stored).not.toMatch(/ada@example\.com|010190-1234|sk-live/);
    }
    expect(JSON.parse(node.input).messages[0].content).toBe(
      'Mail [REDACTED:email], CPR [REDACTED:cpr], key [REDACTED:secret]',
    );
    expect(node.output).toBe('Sent to [REDACTED:email] ([REDACTED:cpr])');
  });

  it('filter by model, operation, purpose, task and time', async () => {
    const count = async (filter: Record<string, unknown>) =>
      (await query(auditor, GENERATIONS, { filter, first: 100 })).generations.edges.length;
    expect(await count({ model: 'gpt-4o' })).toBe(2);
    expect(await count({ model: 'gpt-4o-mini-2024' })).toBe(3);
    expect(await count({ taskId: TASK })).toBe(1);
    expect(await count({ purpose: 'planner' })).toBe(1);
    expect(await count({ operation: 'embeddings' })).toBe(0);
    expect(await count({ from: to })).toBe(0);
  });
});

describe('usage', () => {
  it('sums calls, failures, tokens and cost by USER, AGENT, MODEL and DAY', async () => {
    // ada: 1100 + 2200 + 330 (agent) + 0 (failed); bea: 550 + 20.
    const byUser = (await query(auditor, USAGE, { from, to, groupBy: ['USER'] })).usage;
    expect(byUser.total).toMatchObject({
      calls: 6,
      failed: 1,
      inputTokens: 3810,
      outputTokens: 390,
      totalTokens: 4200,
    });
    expect(byUser.rows).toEqual([
      expect.objectContaining({
        userId: admin.subjectId,
        userName: admin.displayName,
        calls: 4,
        failed: 1,
        totalTokens: 3630,
      }),
      expect.objectContaining({
        userId: bea.subjectId,
        calls: 2,
        failed: 0,
        totalTokens: 570,
        model: null,
        day: null,
      }),
    ]);
    const byAgent = (await query(auditor, USAGE, { from, to, groupBy: ['AGENT'] })).usage.rows;
    expect(byAgent).toEqual([
      expect.objectContaining({ taskId: null, calls: 5, totalTokens: 3870 }),
      expect.objectContaining({ taskId: TASK, calls: 1, totalTokens: 330 }),
    ]);
    const byModel = (await query(auditor, USAGE, { from, to, groupBy: ['MODEL'] })).usage.rows;
    expect(byModel).toEqual([
      expect.objectContaining({ model: 'gpt-4o-mini', calls: 4, totalTokens: 3630, costUsd: 0.000693 }),
      expect.objectContaining({ model: 'gpt-4o', calls: 2, totalTokens: 570 }),
    ]);
    const today = new Date();
    const day = new Date(
      Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()),
    ).toISOString();
    const byDayUser = (await query(auditor, USAGE, { from, to, groupBy: ['DAY', 'USER'] })).usage;
    expect(byDayUser.groupBy).toEqual(['DAY', 'USER']);
    expect(
      byDayUser.rows.map((r: { day: string; userId: string; totalTokens: number }) => [
        r.day,
        r.userId,
        r.totalTokens,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [day, admin.subjectId, 3630],
        [day, bea.subjectId, 570],
      ]),
    );
  });

  it('refuses a range that ends before it starts', async () => {
    const result = await audit.execute(auditor, USAGE, { from: to, to: from, groupBy: [] });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('token budgets', () => {
  it('refuse a call before it is made, by the user’s and by the tenant’s budget', async () => {
    // bea has used 570 tokens this month, the tenant 4200.
    const set = await query(admin, SET_BUDGET, { input: { userId: bea.subjectId, monthlyTokens: 600 } });
    expect(set.setTokenBudget).toEqual({
      userId: bea.subjectId,
      monthlyTokens: 600,
      usedTokens: 570,
      remainingTokens: 30,
    });
    // 20 characters ≈ 5 tokens: fits.
    expect(await call(bea, chat(bea, 'gpt-4o', 'x'.repeat(20)), { input: 20, output: 5 })).toBe(true);
    // bea is at 595: 40 more characters ≈ 10 tokens would pass 600.
    const refused = call(bea, chat(bea, 'gpt-4o', 'y'.repeat(40)), { input: 10, output: 0 });
    await expect(refused).rejects.toThrow(BudgetExceededError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `^The monthly token budget of user ${bea.subjectId} \\(600 tokens\\) would be exceeded: 595 tokens used this month, and this call needs about 10 more\\. The budget resets at \\d{4}-\\d{2}-01T00:00:00\\.000Z`,
      ),
    );
    // ada has no budget of her own; the tenant's (4225 used) stops her.
    await query(admin, SET_BUDGET, { input: { userId: null, monthlyTokens: 4230 } });
    const tenant = call(admin, chat(admin, 'gpt-4o-mini', 'z'.repeat(40)), { input: 10, output: 0 });
    await expect(tenant).rejects.toMatchObject({
      code: 'BUDGET_EXCEEDED',
      details: { budget: 'TENANT', usedTokens: 4225 },
    });
    // What was refused was not run, and not recorded.
    const budgets = (await query(auditor, BUDGETS)).tokenBudgets;
    expect(budgets).toEqual([
      expect.objectContaining({
        userId: null,
        monthlyTokens: 4230,
        usedTokens: 4225,
        remainingTokens: 5,
        updatedBy: admin.displayName,
      }),
      expect.objectContaining({
        userId: bea.subjectId,
        monthlyTokens: 600,
        usedTokens: 595,
        remainingTokens: 5,
      }),
    ]);
    expect(budgets[0].month).toMatch(/^\d{4}-\d{2}-01T00:00:00\.000Z$/);
    // Removing both lets calls through again.
    expect(
      (await query(admin, SET_BUDGET, { input: { userId: null, monthlyTokens: null } })).setTokenBudget,
    ).toBeNull();
    expect(
      (await query(admin, SET_BUDGET, { input: { userId: bea.subjectId, monthlyTokens: null } }))
        .setTokenBudget,
    ).toBeNull();
    expect((await query(auditor, BUDGETS)).tokenBudgets).toEqual([]);
    expect(await call(bea, chat(bea, 'gpt-4o', 'y'.repeat(40)), { input: 10, output: 0 })).toBe(true);
  });

  it('are set by Admins only, and every change is audited', async () => {
    for (const who of [auditor, reader]) {
      const result = await audit.execute(who, SET_BUDGET, { input: { monthlyTokens: 1 } });
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const bad = await audit.execute(admin, SET_BUDGET, { input: { monthlyTokens: -5 } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const events = await query(
      auditor,
      '{ auditEvents(filter: { action: "audit.setTokenBudget" }, first: 20) { edges { node { outcome actorId } } } }',
    );
    const outcomes = events.auditEvents.edges.map((e: { node: { outcome: string } }) => e.node.outcome);
    expect(outcomes.filter((o: string) => o === 'SUCCESS')).toHaveLength(4);
    expect(outcomes).toContain('DENIED');
    expect(outcomes).toContain('FAILED');
  });
});

describe('tenant isolation', () => {
  it('shows another tenant nothing of this one', async () => {
    const mine = await query(admin, GENERATIONS, { first: 1 });
    const id = mine.generations.edges[0].node.id;
    const theirs = await query(stranger, GENERATIONS, { first: 100 });
    expect(theirs.generations.edges.map((e: { node: { userId: string } }) => e.node.userId)).toEqual([
      stranger.subjectId,
    ]);
    expect(
      (await query(stranger, 'query ($id: ID!) { generation(id: $id) { id } }', { id })).generation,
    ).toBeNull();
    const usage = (await query(stranger, USAGE, { from, to, groupBy: ['USER'] })).usage;
    expect(usage.total).toMatchObject({ calls: 1, totalTokens: 14 });
    expect((await query(stranger, BUDGETS)).tokenBudgets).toEqual([]);
  });

  it('refuses a record in another tenant than its caller’s', async () => {
    const scope = tenantScope(audit.orm, stranger.tenantId);
    await expect(
      recorder.observe(
        scope,
        chat(admin, 'gpt-4o', 'x'),
        async () => 1,
        () => ({ inputTokens: 1, outputTokens: 1 }),
      ),
    ).rejects.toThrow('a generation must be recorded in the tenant of its caller');
  });
});

describe('metrics', () => {
  it('follow the GenAI conventions: token usage by type, operation duration, and cost', async () => {
    const { resourceMetrics } = await metricReader.collect();
    const all = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
    const tokens = all.find((m) => m.descriptor.name === METRIC_TOKEN_USAGE) as HistogramMetricData;
    expect(tokens.descriptor.unit).toBe('{token}');
    const sum = (type: string, model: string) =>
      tokens.dataPoints
        .filter(
          (p) =>
            p.attributes['gen_ai.token.type'] === type &&
            p.attributes['gen_ai.request.model'] === model &&
            p.attributes['widgetdc.tenant.id'] === admin.tenantId,
        )
        .reduce((n, p) => n + (p.value.sum ?? 0), 0);
    // gpt-4o-mini in acme: 1000 + 2000 + 300 input, 100 + 200 + 30 output (the refused call made none)
    expect(sum('input', 'gpt-4o-mini')).toBe(3300);
    expect(sum('output', 'gpt-4o-mini')).toBe(330);
    const duration = all.find((m) => m.descriptor.name === METRIC_OPERATION_DURATION) as HistogramMetricData;
    expect(duration.descriptor.unit).toBe('s');
    const failed = duration.dataPoints.filter((p) => p.attributes['error.type'] === 'unauthorized');
    expect(failed.map((p) => p.value.count)).toEqual([1]);
    const cost = all.find((m) => m.descriptor.name === METRIC_COST) as SumMetricData;
    expect(cost.descriptor.unit).toBe('USD');
    expect(cost.dataPoints.reduce((n, p) => n + p.value, 0)).toBeGreaterThan(0);
  });
});

describe('retention', () => {
  it('sweeps generations older than GENERATION_RETENTION, keeping the month’s counters', async () => {
    await db.asSuperuser(
      `update observability.generations set created_at = now() - interval '40 days' where user_id = $1`,
      [stranger.subjectId],
    );
    expect(await sweepGenerations(audit.orm, 30 * 86_400_000)).toBe(1);
    expect((await query(stranger, GENERATIONS, {})).generations.edges).toEqual([]);
    const [usage] = await db.asSuperuser<{ tokens: string }>(
      `select tokens from observability.token_usage where user_id = $1`,
      [stranger.subjectId],
    );
    expect(Number(usage?.tokens)).toBe(14);
  });
});
