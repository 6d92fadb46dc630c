// Every LLM call recorded, through the real gateway (ADR 0037): an ask against a local server that
// speaks OpenAI's chat-completions protocol leaves a generation (tokens, cost, latency, user, trace)
// readable with `generations`; a model error is a FAILED generation one filter away; budgets refuse
// with BUDGET_EXCEEDED before the model is called; stored prompts and exported spans are redacted.
import { AggregationTemporality, type HistogramMetricData, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { devUserId } from '#kernel/auth/dev-ids.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { CORPUS } from '../../subgraphs/knowledge/test/fixtures/corpus.ts';
import { type KnowledgePlatform, startKnowledgePlatform } from './support/knowledge-platform.ts';

const fake = await startFakeChatServer((request, res) => {
  const question: string = request.body.messages[1].content;
  if (/Question: .*\bpassword\b/.test(question)) {
    return reply.status(401, {}, 'Incorrect API key provided: sk-gen***')(request, res);
  }
  return reply.answer({
    pieces: ['It listens on port 5432 [1].'],
    usage: { prompt_tokens: 500, completion_tokens: 20 },
    model: 'gpt-fake-1',
  })(request, res);
});
const exporter = new InMemorySpanExporter();

/** The SDK's in-memory metric reader: collects when asked. */
class TestMetricReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}
const metricReader = new TestMetricReader();
let telemetry: Telemetry;
let knowledge: KnowledgePlatform;
let alice: string;
let bob: string;
let ada: string;

const GENERATIONS = `query ($filter: GenerationFilter) { generations(filter: $filter, first: 50) { edges { node {
  id operation purpose actorKind userId userName provider model responseModel input output
  inputTokens outputTokens totalTokens costUsd latencyMs status errorType errorMessage traceId } } } }`;
const ASK =
  'query ($q: String!) { ask(question: $q) { text usage { promptTokens completionTokens } traceId } }';

async function gql(token: string, query: string, variables: Record<string, unknown> = {}) {
  return (await knowledge.platform.post({ query, variables }, token)).body;
}

// biome-ignore lint/suspicious/noExplicitAny: generations as the API returns them
async function generations(filter: Record<string, unknown>): Promise<any[]> {
  const body = await gql(ada, GENERATIONS, { filter });
  expect(body.errors).toBeUndefined();
  // biome-ignore lint/suspicious/noExplicitAny: as above
  return (body.data as any).generations.edges.map((e: { node: unknown }) => e.node);
}

beforeAll(async () => {
  telemetry = startTelemetry({
    serviceName: 'generations-test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    metricReaders: [metricReader],
    instrumentations: [],
  });
  knowledge = await startKnowledgePlatform({
    LLM_PROVIDER: 'openai',
    LLM_ENDPOINT: fake.baseUrl,
    LLM_MODEL: 'gpt-fake',
    LLM_API_KEY: 'sk-gen',
    LLM_PRICES: '{"gpt-fake": {"input": 2, "output": 8}}',
  });
  alice = await knowledge.platform.issuer.token('acme', 'alice', ['Reader']);
  bob = await knowledge.platform.issuer.token('acme', 'bob', ['Reader']);
  ada = await knowledge.platform.issuer.token('acme', 'ada', ['Admin']);
  const carl = await knowledge.platform.issuer.token('acme', 'carl', ['Contributor']);
  const doc = CORPUS.find((d) => d.key === 'postgres')!;
  await knowledge.ingest(carl, { title: doc.title, text: doc.text });
}, 180_000);
afterAll(async () => {
  await knowledge?.close();
  await fake.close();
  await telemetry?.shutdown();
});

describe('generations through the gateway', () => {
  it('records an ask’s chat call with tokens, cost, latency, its user and its trace', async () => {
    const asked = await gql(alice, ASK, {
      q: 'What is the default port? Reply to alice@example.com, CPR 010190-1234',
    });
    expect(asked.errors).toBeUndefined();
    const [chat] = await generations({ operation: 'chat', userId: devUserId('acme', 'alice') });
    expect(chat).toMatchObject({
      purpose: 'answer',
      actorKind: 'USER',
      userName: 'alice@acme.dev.widgetdc',
      provider: 'openai',
      model: 'gpt-fake',
      responseModel: 'gpt-fake-1',
      inputTokens: 500,
      outputTokens: 20,
      totalTokens: 520,
      // 500 × 2 + 20 × 8 USD per 1M tokens (LLM_PRICES)
      costUsd: 0.00116,
      status: 'SUCCEEDED',
    });
    expect(chat.latencyMs).toBeGreaterThan(0);
    expect(chat.output).toContain('port 5432');
    // The prompt as sent (system rules, then the sources and question), with the policy applied.
    const input = JSON.parse(chat.input);
    expect(input.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
    expect(input.messages[1].content).toContain(
      'Question: What is the default port? Reply to [REDACTED:email], CPR [REDACTED:cpr]',
    );
    expect(chat.input).not.toMatch(/alice@example\.com|010190-1234/);
    // The query's embedding is a generation of the same user, and the ingestion one of its uploader.
    const [search] = await generations({ purpose: 'search', userId: devUserId('acme', 'alice') });
    expect(search).toMatchObject({
      operation: 'embeddings',
      provider: 'widgetdc.hashed',
      costUsd: 0,
      status: 'SUCCEEDED',
    });
    expect(search.input).not.toContain('alice@example.com');
    const [ingest] = await generations({ purpose: 'ingest' });
    expect(ingest).toMatchObject({
      operation: 'embeddings',
      actorKind: 'USER',
      userId: devUserId('acme', 'carl'),
    });
    expect(ingest.inputTokens).toBeGreaterThan(0);
    // The trace links both ways: the record names the trace, the model call's span names the record.
    await telemetry.flush();
    const spans = exporter.getFinishedSpans();
    const chatSpan = spans.find((s) => s.attributes['widgetdc.generation.id'] === chat.id);
    expect(chatSpan?.name).toBe('chat gpt-fake');
    expect(chat.traceId).toBe(chatSpan?.spanContext().traceId);
    expect((asked.data as { ask: { traceId: string } }).ask.traceId).toBe(chat.traceId);
    const embedSpan = spans.find((s) => s.attributes['widgetdc.generation.id'] === search.id);
    expect(embedSpan?.name).toMatch(/^embeddings /);
    // No span carries the prompt's personal data.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toMatch(/alice@example\.com|010190-1234/);
    // The SDK's meter saw the call: gen_ai.client.token.usage by token type.
    const { resourceMetrics } = await metricReader.collect();
    const usage = resourceMetrics.scopeMetrics
      .flatMap((m) => m.metrics)
      .find((m) => m.descriptor.name === 'gen_ai.client.token.usage') as HistogramMetricData;
    const tokens = (type: string) =>
      usage.dataPoints
        .filter(
          (p) =>
            p.attributes['gen_ai.request.model'] === 'gpt-fake' && p.attributes['gen_ai.token.type'] === type,
        )
        .map((p) => p.value.sum);
    expect(tokens('input')).toEqual([500]);
    expect(tokens('output')).toEqual([20]);
  });

  it('records a model error as a FAILED generation, found by generations(filter: { status: FAILED })', async () => {
    const asked = await gql(alice, ASK, { q: 'Where is the password of the server kept?' });
    expect(asked.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const failed = await generations({ status: 'FAILED' });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      operation: 'chat',
      purpose: 'answer',
      userId: devUserId('acme', 'alice'),
      status: 'FAILED',
      errorType: 'unauthorized',
      inputTokens: 0,
      costUsd: 0,
    });
    expect(failed[0].errorMessage).toMatch(/refused the platform's credentials \(HTTP 401\)/);
    expect(failed[0].errorMessage).not.toContain('sk-');
  });

  it('refuses with BUDGET_EXCEEDED before calling the model, by the tenant’s and by the user’s budget', async () => {
    const SET = `mutation ($input: SetTokenBudgetInput!) { setTokenBudget(input: $input) { userId monthlyTokens usedTokens remainingTokens } }`;
    const BUDGETS = '{ tokenBudgets { userId usedTokens } }';
    const used = ((await gql(ada, BUDGETS)).data as { tokenBudgets: unknown[] }).tokenBudgets;
    expect(used).toEqual([]);
    // The tenant's budget at what it has used: the next call, however small, would pass it.
    const set = await gql(ada, SET, { input: { userId: null, monthlyTokens: 1_000_000 } });
    const tenantUsed = (set.data as { setTokenBudget: { usedTokens: number } }).setTokenBudget.usedTokens;
    expect(tenantUsed).toBeGreaterThan(520);
    await gql(ada, SET, { input: { userId: null, monthlyTokens: tenantUsed } });
    const before = fake.requests.length;
    const refused = await gql(bob, ASK, { q: 'What is the default port?' });
    expect(refused.data).toBeNull();
    expect(refused.errors?.[0]?.extensions?.code).toBe('BUDGET_EXCEEDED');
    expect(refused.errors?.[0]?.message).toMatch(
      new RegExp(
        `^The tenant's monthly token budget \\(${tenantUsed} tokens\\) would be exceeded: ${tenantUsed} tokens used this month`,
      ),
    );
    expect(refused.errors?.[0]?.message).toMatch(/resets at \d{4}-\d{2}-01T00:00:00\.000Z/);
    expect(fake.requests.length).toBe(before);
    // Tenant-wide lifted, alice's own budget at her use: alice is refused, bob is not.
    await gql(ada, SET, { input: { userId: null, monthlyTokens: null } });
    const aliceId = devUserId('acme', 'alice');
    const mine = await gql(ada, SET, { input: { userId: aliceId, monthlyTokens: 1_000_000 } });
    const aliceUsed = (mine.data as { setTokenBudget: { usedTokens: number } }).setTokenBudget.usedTokens;
    await gql(ada, SET, { input: { userId: aliceId, monthlyTokens: aliceUsed } });
    const aliceAsk = await gql(alice, ASK, { q: 'What is the default port?' });
    expect(aliceAsk.errors?.[0]?.extensions?.code).toBe('BUDGET_EXCEEDED');
    expect(aliceAsk.errors?.[0]?.message).toContain(`The monthly token budget of user ${aliceId}`);
    expect(fake.requests.length).toBe(before);
    const bobAsk = await gql(bob, ASK, { q: 'What is the default port?' });
    expect(bobAsk.errors).toBeUndefined();
    expect(fake.requests.length).toBe(before + 1);
  });

  it('shows another tenant none of it', async () => {
    const eve = await knowledge.platform.issuer.token('globex', 'eve', ['Admin']);
    const body = await gql(eve, GENERATIONS, {});
    expect((body.data as { generations: { edges: unknown[] } }).generations.edges).toEqual([]);
    const usage = await gql(
      eve,
      '{ usage(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", groupBy: []) { total { calls } } }',
    );
    expect(usage.data).toEqual({ usage: { total: { calls: 0 } } });
  });
});
