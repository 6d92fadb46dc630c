// Prompts and replay through the real gateway (ADR 0038): an Admin stores a prompt version the chat
// model refuses, a user's ask fails and is recorded FAILED naming that version, the Admin stores a
// corrected version and replays the failed generation with it; the next ask uses it. The model is a
// local server speaking OpenAI's chat-completions protocol; the clients are the real ones.
import { loadLlmConfig } from '#llm/config.ts';
import { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import { reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { createAuditSubgraph } from '../../subgraphs/audit/src/subgraph.ts';
import { CORPUS } from '../../subgraphs/knowledge/test/fixtures/corpus.ts';
import { type KnowledgePlatform, startKnowledgePlatform } from './support/knowledge-platform.ts';

const fake = await startFakeChatServer((request, res) => {
  const system: string = request.body.messages[0]?.content ?? '';
  if (system.includes('BROKEN')) return reply.status(400, {}, 'Invalid prompt')(request, res);
  return reply.answer({
    pieces: ['It listens on port 5432 [1].'],
    usage: { prompt_tokens: 300, completion_tokens: 12 },
    model: 'gpt-fake-1',
  })(request, res);
});

const ENV = {
  LLM_PROVIDER: 'openai',
  LLM_ENDPOINT: fake.baseUrl,
  LLM_MODEL: 'gpt-fake',
  LLM_API_KEY: 'sk-rp',
};
let knowledge: KnowledgePlatform;
let alice: string;
let ada: string;

async function gql(token: string, query: string, variables: Record<string, unknown> = {}) {
  return (await knowledge.platform.post({ query, variables }, token)).body;
}

const SET = `mutation ($input: SetPromptInput!) { setPrompt(input: $input) { version current } }`;
const ASK = 'query ($q: String!) { ask(question: $q) { text } }';
const FAILED = `{ generations(filter: { status: FAILED, purpose: "answer" }, first: 5) { edges { node {
  id status promptName promptVersion errorType } } } }`;
const REPLAY = `mutation ($id: ID!, $v: Int) { replayGeneration(id: $id, promptVersion: $v) {
  original { id status promptVersion output } replay { id status purpose promptVersion output userName replayOf { id } } } }`;

beforeAll(async () => {
  knowledge = await startKnowledgePlatform(ENV, {
    audit: createAuditSubgraph({ replay: { llm: loadLlmConfig(ENV), recorder: new GenerationRecorder() } }),
  });
  alice = await knowledge.platform.issuer.token('acme', 'alice', ['Reader']);
  ada = await knowledge.platform.issuer.token('acme', 'ada', ['Admin']);
  const carl = await knowledge.platform.issuer.token('acme', 'carl', ['Contributor']);
  const doc = CORPUS.find((d) => d.key === 'postgres')!;
  await knowledge.ingest(carl, { title: doc.title, text: doc.text });
}, 180_000);
afterAll(async () => {
  await knowledge?.close();
  await fake.close();
});

describe('prompts and replay through the gateway', () => {
  it('replays a failed ask with a corrected prompt version, linked to the original, and later asks use it', async () => {
    const broken = await gql(ada, SET, {
      input: {
        name: 'knowledge.answer',
        system: 'BROKEN rules',
        user: '{{sources}}\n\nQuestion: {{question}}',
      },
    });
    expect(broken.data).toEqual({ setPrompt: { version: 1, current: true } });
    const question = 'What is the default port of the PostgreSQL server?';
    const failed = await gql(alice, ASK, { q: question });
    expect(failed.errors?.[0]).toBeDefined();

    const listed = await gql(ada, FAILED);
    expect(listed.errors).toBeUndefined();
    const [original] = (
      listed.data as { generations: { edges: { node: Record<string, unknown> }[] } }
    ).generations.edges.map((e) => e.node);
    expect(original).toMatchObject({ status: 'FAILED', promptName: 'knowledge.answer', promptVersion: 1 });

    const fixed = await gql(ada, SET, {
      input: {
        name: 'knowledge.answer',
        system: 'Answer only from the numbered sources; cite them as [n].',
        user: '{{sources}}\n\nQuestion: {{question}}',
        comment: 'no longer broken',
      },
    });
    expect(fixed.data).toEqual({ setPrompt: { version: 2, current: true } });
    const sent = fake.requests.length;
    const replayed = await gql(ada, REPLAY, { id: original!.id, v: 2 });
    expect(replayed.errors).toBeUndefined();
    expect(fake.requests[sent]!.body.messages[0].content).toBe(
      'Answer only from the numbered sources; cite them as [n].',
    );
    expect(fake.requests[sent]!.body.messages[1].content).toContain(`Question: ${question}`);
    expect(replayed.data).toEqual({
      replayGeneration: {
        original: { id: original!.id, status: 'FAILED', promptVersion: 1, output: null },
        replay: {
          id: expect.any(String),
          status: 'SUCCEEDED',
          purpose: 'replay',
          promptVersion: 2,
          output: 'It listens on port 5432 [1].',
          userName: 'ada@acme.dev.widgetdc',
          replayOf: { id: original!.id },
        },
      },
    });

    const again = await gql(alice, ASK, { q: question });
    expect(again.errors).toBeUndefined();
    expect(fake.requests.at(-1)!.body.messages[0].content).toBe(
      'Answer only from the numbered sources; cite them as [n].',
    );
  });
});
