// Offline, the platform records usage too (ADR 0037): the extractive answerer's answers are chat
// generations of provider widgetdc.extractive costing nothing, the query's embedding one of the
// asking user, and a document's embedding one of its uploader; a spent budget fails an ingestion
// with the budget's message instead of retrying it.
import type { Identity } from '#kernel/auth/identity.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { auditSubgraph } from '../../../audit/src/subgraph.ts';
import { EXTRACTIVE_PROVIDER } from '../../src/answer/offline-answerer.ts';
import { CORPUS } from '../fixtures/corpus.ts';
import { useIngestSuite } from '../support.ts';

const suite = useIngestSuite();
let audit: SubgraphHarness;
let alice: Identity;
let carl: Identity;
let ada: Identity;

const GENERATIONS = `query ($filter: GenerationFilter) { generations(filter: $filter, first: 50) { edges { node {
  operation purpose actorKind userId provider model inputTokens outputTokens totalTokens costUsd status input output } } } }`;

// biome-ignore lint/suspicious/noExplicitAny: generations as the API returns them
async function generations(filter: Record<string, unknown>): Promise<any[]> {
  const result = await audit.execute(ada, GENERATIONS, { filter });
  expect(result.errors).toBeUndefined();
  return (result.data!.generations as { edges: { node: unknown }[] }).edges.map((e) => e.node);
}

beforeAll(async () => {
  audit = await createSubgraphHarness(auditSubgraph, suite.db);
  alice = await suite.identity('acme', 'alice', ['Reader']);
  carl = await suite.identity('acme', 'carl', ['Contributor']);
  ada = await audit.identity('acme', 'ada', ['Admin']);
  const doc = CORPUS.find((d) => d.key === 'postgres')!;
  const id = await suite.ingest(carl, { title: doc.title, text: doc.text });
  expect((await suite.finished(carl, id)).status).toBe('READY');
}, 120_000);
afterAll(async () => {
  await audit?.close();
});

describe('generations offline', () => {
  it('record the extractive answer, the query embedding and the ingestion, at no cost', async () => {
    const asked = await suite.knowledge.execute(
      alice,
      'query { ask(question: "What is the default port of the PostgreSQL server?") { text usage { promptTokens completionTokens } } }',
    );
    expect(asked.errors).toBeUndefined();
    const usage = (asked.data!.ask as { usage: { promptTokens: number; completionTokens: number } }).usage;
    const [answer] = await generations({ purpose: 'answer' });
    expect(answer).toMatchObject({
      operation: 'chat',
      actorKind: 'USER',
      userId: alice.subjectId,
      provider: EXTRACTIVE_PROVIDER,
      model: 'offline-extractive',
      inputTokens: usage.promptTokens,
      outputTokens: usage.completionTokens,
      costUsd: 0,
      status: 'SUCCEEDED',
    });
    expect(answer.inputTokens).toBeGreaterThan(0);
    expect(answer.output).toContain('5432');
    expect(JSON.parse(answer.input).messages[0].content).toMatch(/^Sources:/);
    const [search] = await generations({ purpose: 'search' });
    expect(search).toMatchObject({
      operation: 'embeddings',
      userId: alice.subjectId,
      provider: 'widgetdc.hashed',
      costUsd: 0,
    });
    expect(JSON.parse(search.input)).toEqual({
      count: 1,
      inputs: ['What is the default port of the PostgreSQL server?'],
    });
    const [ingest] = await generations({ purpose: 'ingest' });
    expect(ingest).toMatchObject({
      operation: 'embeddings',
      actorKind: 'USER',
      userId: carl.subjectId,
      status: 'SUCCEEDED',
    });
    expect(JSON.parse(ingest.input).count).toBeGreaterThan(0);
  });

  it('fails an ingestion past its uploader’s budget with the budget’s message', async () => {
    const set = await audit.execute(
      ada,
      'mutation ($input: SetTokenBudgetInput!) { setTokenBudget(input: $input) { usedTokens } }',
      { input: { userId: carl.subjectId, monthlyTokens: 1 } },
    );
    expect(set.errors).toBeUndefined();
    const id = await suite.ingest(carl, {
      title: 'More notes',
      text: 'Redis listens on port 6379 by default.',
    });
    const doc = await suite.finished(carl, id);
    expect(doc.status).toBe('FAILED');
    expect(doc.error).toMatch(
      new RegExp(`^The monthly token budget of user ${carl.subjectId} \\(1 tokens\\) would be exceeded`),
    );
  });
});
