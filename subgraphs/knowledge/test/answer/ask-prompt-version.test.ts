// `ask` renders the asking tenant's current `knowledge.answer` prompt (ADR 0038), sends it to the
// chat model (a local server speaking the chat-completions protocol; the client is the real one)
// and records the version it used, with its variables, on the answer's generation.
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { BUILT_IN_PROMPTS } from '#llm/prompts/built-in.ts';
import { createPromptVersion } from '#llm/prompts/prompt-store.ts';
import { reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { useIngestSuite } from '../support.ts';

const fake = await startFakeChatServer(
  reply.answer({ pieces: ['Port 5432 [1].'], usage: { prompt_tokens: 90, completion_tokens: 5 } }),
);
afterAll(() => fake.close());

const suite = useIngestSuite({
  env: { LLM_PROVIDER: 'openai', LLM_ENDPOINT: fake.baseUrl, LLM_MODEL: 'gpt-fake', LLM_API_KEY: 'sk-e2e' },
});

let alice: Identity;
let bob: Identity;

interface GenerationRow {
  prompt_name: string | null;
  prompt_version: number | null;
  prompt_variables: Record<string, string> | null;
  prompt_messages: number | null;
  input: { messages: { role: string; content: string }[] };
}

/** The newest answer generation of `who`'s tenant. */
async function lastAnswer(who: Identity): Promise<GenerationRow> {
  const [row] = await withTenant(suite.orm, who.tenantId, (em) =>
    em.execute<GenerationRow[]>(
      `select prompt_name, prompt_version, prompt_variables, prompt_messages, input
         from observability.generations where purpose = 'answer' order by created_at desc limit 1`,
    ),
  );
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return { ...row!, prompt_variables: json(row!.prompt_variables), input: json(row!.input) };
}

async function ask(who: Identity, question: string) {
  const before = fake.requests.length;
  const result = await suite.knowledge.execute(who, 'query ($q: String!) { ask(question: $q) { text } }', {
    q: question,
  });
  expect(result.errors).toBeUndefined();
  expect(fake.requests.length).toBe(before + 1);
  return fake.requests[before]!.body.messages as { role: string; content: string }[];
}

beforeAll(async () => {
  alice = await suite.identity('acme', 'alice', ['Reader', 'Contributor']);
  bob = await suite.identity('globex', 'bob', ['Reader', 'Contributor']);
  const text = 'The PostgreSQL server listens on TCP port 5432 by default.';
  for (const who of [alice, bob]) {
    const id = await suite.ingest(who, { title: 'Connection settings', text });
    expect((await suite.finished(who, id)).status).toBe('READY');
  }
}, 120_000);

describe('ask renders the tenant’s current prompt', () => {
  const question = 'What is the default port of the PostgreSQL server?';

  it('sends the built-in version 0 and records it until the tenant stores a version', async () => {
    const messages = await ask(alice, question);
    expect(messages[0]).toEqual({
      role: 'system',
      content: BUILT_IN_PROMPTS.get('knowledge.answer')!.system,
    });
    expect(messages[1]!.content).toMatch(
      /^Sources:\n\n\[1\] Connection settings\n.*port 5432.*\n\nQuestion: What is/s,
    );
    const generation = await lastAnswer(alice);
    expect(generation).toMatchObject({
      prompt_name: 'knowledge.answer',
      prompt_version: 0,
      prompt_messages: 2,
    });
    expect(generation.prompt_variables?.question).toBe(question);
  });

  it('sends the newest stored version and names it on the generation, with its variables', async () => {
    for (const system of ['Acme rules v1. Cite sources.', 'Acme rules v2. Cite every source as [n].']) {
      await withTenant(suite.orm, alice.tenantId, (em) =>
        createPromptVersion(
          em,
          alice.tenantId,
          { name: 'knowledge.answer', system, user: 'Q: {{question}}\n---\n{{sources}}' },
          'ada',
        ),
      );
    }
    const messages = await ask(alice, question);
    expect(messages[0]).toEqual({ role: 'system', content: 'Acme rules v2. Cite every source as [n].' });
    expect(messages[1]!.content).toMatch(
      /^Q: What is the default port of the PostgreSQL server\?\n---\n\[1\] /,
    );
    const generation = await lastAnswer(alice);
    expect(generation).toMatchObject({
      prompt_name: 'knowledge.answer',
      prompt_version: 2,
      prompt_messages: 2,
    });
    expect(Object.keys(generation.prompt_variables!).sort()).toEqual(['question', 'sources']);
    expect(generation.prompt_variables!.sources).toMatch(/^\[1\] Connection settings\n/);
    // The recorded input is what was sent.
    expect(generation.input.messages.map((m) => m.content)).toEqual(messages.map((m) => m.content));
  });

  it('keeps another tenant on its own (built-in) version', async () => {
    const messages = await ask(bob, question);
    expect(messages[0]!.content).toBe(BUILT_IN_PROMPTS.get('knowledge.answer')!.system);
    expect(await lastAnswer(bob)).toMatchObject({ prompt_version: 0 });
  });
});
