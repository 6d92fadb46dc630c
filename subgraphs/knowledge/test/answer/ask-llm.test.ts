// `ask` with LLM_PROVIDER=openai, end to end: the real pipeline (ingestion, hybrid retrieval, the
// chat answerer, the chat client) against a local server that speaks the chat-completions protocol.
import type { Identity } from '#kernel/auth/identity.ts';
import { type FakeChatRequest, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { NOT_ANSWERED } from '../../src/answer/llm-answerer.ts';
import { CORPUS } from '../fixtures/corpus.ts';
import { useIngestSuite } from '../support.ts';

/** The numbered sources of a grounded prompt: number → text. */
function sourcesOf(request: FakeChatRequest): Map<number, string> {
  const prompt: string = request.body.messages[1].content;
  const out = new Map<number, string>();
  for (const block of prompt.split(/\n\n(?=\[\d+\] )/)) {
    const match = /^(?:Sources:\n\n)?\[(\d+)\] [^\n]*\n([\s\S]*)$/.exec(block);
    if (match) out.set(Number(match[1]), match[2]!.split('\n\nQuestion:')[0]!);
  }
  return out;
}

// A model that answers a question about a port from the source that names one, citing it and also
// a source it was never given ([42]); otherwise it says the documents do not answer.
const fake = await startFakeChatServer((request, res) => {
  if (/Question: .*\bpassword\b/.test(request.body.messages[1].content)) {
    return reply.status(401, {}, 'Incorrect API key provided: sk-e2***')(request, res);
  }
  const asksForPort = /Question: .*\bport\b/.test(request.body.messages[1].content);
  const source = [...sourcesOf(request)].find(([, text]) => /port \d{4}/.test(text));
  const pieces =
    asksForPort && source
      ? [
          `The server listens on port ${/port (\d{4})/.exec(source[1])![1]} by default `,
          `[${source[0]}]`,
          '[42].',
        ]
      : [NOT_ANSWERED];
  return reply.answer({ pieces, usage: { prompt_tokens: 500, completion_tokens: 20 }, model: 'gpt-fake-1' })(
    request,
    res,
  );
});
afterAll(() => fake.close());

const suite = useIngestSuite({
  env: { LLM_PROVIDER: 'openai', LLM_ENDPOINT: fake.baseUrl, LLM_MODEL: 'gpt-fake', LLM_API_KEY: 'sk-e2e' },
});

const ANSWER = `text model unanswered usage { promptTokens completionTokens } timings { stage ms }
  citations { n quote chunk { id text document { id } } document { id title } }`;

let alice: Identity;
let bob: Identity;
const ids: Record<string, string> = {};
let bobDoc = '';

const askQuery = (who: Identity, question: string) =>
  suite.knowledge.execute(who, `query ($q: String!) { ask(question: $q) { ${ANSWER} } }`, { q: question });

async function ask(who: Identity, question: string) {
  const result = await askQuery(who, question);
  expect(result.errors).toBeUndefined();
  // biome-ignore lint/suspicious/noExplicitAny: the answer as the API returns it
  return result.data!.ask as any;
}

beforeAll(async () => {
  alice = await suite.identity('acme', 'alice', ['Reader', 'Contributor']);
  bob = await suite.identity('globex', 'bob', ['Reader', 'Contributor']);
  for (const { key, ...input } of CORPUS) ids[key] = await suite.ingest(alice, input);
  bobDoc = await suite.ingest(bob, {
    title: 'Globex database notes',
    text: 'Globex runs its PostgreSQL server on port 6543 by default.',
  });
  for (const id of [...Object.values(ids), bobDoc]) {
    const owner = id === bobDoc ? bob : alice;
    expect((await suite.finished(owner, id)).status).toBe('READY');
  }
}, 120_000);

describe('ask with a chat model (LLM_PROVIDER=openai)', () => {
  it('answers through the chat model with checked citations, its usage and model', async () => {
    const before = fake.requests.length;
    const a = await ask(alice, 'What is the default port of the PostgreSQL server?');
    const request = fake.requests[before]!;
    expect(request.headers.authorization).toBe('Bearer sk-e2e');
    expect(request.body.model).toBe('gpt-fake');
    const given = sourcesOf(request);
    expect(given.size).toBeGreaterThan(0);
    const cited = [...given].find(([, text]) => text.includes('port 5432'))!;

    expect(a.text).toBe(`The server listens on port 5432 by default [${cited[0]}].`);
    expect(a.unanswered).toBe(false);
    expect(a.model).toBe('gpt-fake-1');
    expect(a.usage).toEqual({ promptTokens: 500, completionTokens: 20 });
    expect(a.citations).toEqual([
      {
        n: cited[0],
        quote: 'The server listens on TCP port 5432 by default.',
        chunk: expect.objectContaining({ document: { id: ids.postgres } }),
        document: { id: ids.postgres, title: 'PostgreSQL connection settings' },
      },
    ]);
    expect(a.citations[0].chunk.text).toContain(a.citations[0].quote);
    expect(a.timings.map((t: { stage: string }) => t.stage)).toContain('generation');
  });

  it('gives the model only the asking tenant’s chunks', async () => {
    const before = fake.requests.length;
    const a = await ask(bob, 'What is the default port of the PostgreSQL server?');
    const given = [...sourcesOf(fake.requests[before]!).values()];
    expect(given.length).toBeGreaterThan(0);
    expect(given.every((text) => text.includes('Globex'))).toBe(true);
    expect(a.text).toBe('The server listens on port 6543 by default [1].');
    expect(a.citations.map((c: { document: { id: string } }) => c.document.id)).toEqual([bobDoc]);
  });

  it('tells the client plainly when the model service refuses, without its text', async () => {
    const { errors } = await askQuery(alice, 'Where is the password of the PostgreSQL server kept?');
    expect(errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(errors?.[0]?.message).toMatch(
      /^The language model at 127\.0\.0\.1:\d+ refused the platform's credentials \(HTTP 401\); an administrator must check/,
    );
    expect(errors?.[0]?.message).not.toContain('sk-');
  });

  it('is unanswered when the model finds no answer in the sources', async () => {
    const a = await ask(alice, 'How do I bake sourdough bread?');
    expect(a).toMatchObject({ text: NOT_ANSWERED, citations: [], unanswered: true });
  });
});
