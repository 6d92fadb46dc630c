// replayGeneration: a failed chat generation (recorded by the real recorder and chat client against a
// local chat-completions server) replayed with a corrected prompt version, another model, or as it
// was; the replay is a new generation of the Admin, linked to the original. Embeddings, other
// tenants' generations, non-Admins, budgets and an offline service are refused.
import type { Identity } from '#kernel/auth/identity.ts';
import { tenantScope } from '#kernel/db/tenant-context.ts';
import type { LlmConfig } from '#llm/config.ts';
import { createChatClient } from '#llm/create-chat-client.ts';
import { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import { callerOfIdentity } from '#llm/generations/record.ts';
import { recordedChat } from '#llm/generations/recorded-chat.ts';
import { builtInVersion, promptVersion, renderPrompt } from '#llm/prompts/prompt-store.ts';
import { type FakeChatRequest, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { auditSubgraph, createAuditSubgraph } from '../src/subgraph.ts';

// The model refuses a prompt that says BROKEN (as a provider refuses a malformed request) and
// answers anything else.
const fake = await startFakeChatServer((request, res) => {
  const system = request.body.messages[0]?.content ?? '';
  if (system.includes('BROKEN')) {
    return reply.status(400, {}, 'Invalid prompt: the system message is malformed')(request, res);
  }
  return reply.answer({
    pieces: ['The server listens on port 5432 [1].'],
    usage: { prompt_tokens: 120, completion_tokens: 9 },
    model: `${request.body.model}-0613`,
  })(request, res);
});

const llm: LlmConfig = {
  provider: 'openai',
  endpoint: fake.baseUrl,
  apiKey: 'sk-replay',
  model: 'gpt-fake',
  timeoutMs: 10_000,
  maxRetries: 0,
};

let db: TestDatabase;
let audit: SubgraphHarness;
let offline: SubgraphHarness;
let admin: Identity;
let auditor: Identity;
let reader: Identity;
let stranger: Identity;
let failedId: string;
const recorder = new GenerationRecorder();
const question = 'What is the default port of the PostgreSQL server?';
const sources = '[1] PostgreSQL connection settings\nThe server listens on TCP port 5432 by default.';

const SET = `mutation ($input: SetPromptInput!) { setPrompt(input: $input) { version } }`;
const GEN = `id status purpose promptName promptVersion model responseModel output errorType errorMessage userName actorKind`;
const REPLAY = `mutation ($id: ID!, $v: Int, $model: String) { replayGeneration(id: $id, promptVersion: $v, model: $model) {
  original { ${GEN} replays { id } } replay { ${GEN} replayOf { id } } } }`;

type Gen = Record<string, unknown> & { id: string; replays?: { id: string }[]; replayOf?: { id: string } };

/** A chat call of `who` as the answerer makes it: `messages` after the rendered prompt version. */
async function recordCall(
  who: Identity,
  version: number,
  extra: { role: 'user' | 'assistant'; content: string }[] = [],
) {
  const scope = tenantScope(audit.orm, who.tenantId);
  const template = await scope.run((em) => promptVersion(em, 'knowledge.answer', version));
  const prompt = renderPrompt(template, { question, sources });
  await recordedChat(
    { recorder, scope, caller: callerOfIdentity(who, 'answer', { prompt: prompt.use }) },
    createChatClient(llm)!,
    { messages: [...prompt.messages, ...extra], temperature: 0 },
  ).catch(() => undefined);
  // The newest generation of the tenant is the one just recorded (the tests run one at a time).
  const [row] = await scope.run((em) =>
    em.execute<{ id: string }[]>('select id from observability.generations order by created_at desc limit 1'),
  );
  return row!.id;
}

async function replay(who: Identity, variables: Record<string, unknown>, harness = audit) {
  const res = await harness.execute(who, REPLAY, variables);
  return {
    errors: res.errors,
    data: res.data?.replayGeneration as { original: Gen; replay: Gen } | undefined,
  };
}

const lastRequest = (): FakeChatRequest => fake.requests.at(-1)!;

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(createAuditSubgraph({ replay: { llm, recorder } }), db);
  offline = await createSubgraphHarness(auditSubgraph, db);
  admin = await audit.identity('acme', 'ada', ['Admin']);
  auditor = await audit.identity('acme', 'audrey', ['Auditor']);
  reader = await audit.identity('acme', 'rita', ['Reader']);
  stranger = await audit.identity('umbrella', 'mallory', ['Admin']);
  const broken = await audit.execute(admin, SET, {
    input: { name: 'knowledge.answer', system: 'BROKEN {{question', user: '{{sources}}\n\n{{question}}' },
  });
  expect(broken.data?.setPrompt).toEqual({ version: 1 });
  // Rita's ask with version 1: the model service refuses it, and the generation is recorded FAILED.
  failedId = await recordCall(reader, 1);
});
afterAll(async () => {
  await offline?.close();
  await audit?.close();
  await db?.close();
  await fake.close();
});

describe('replayGeneration', () => {
  it('replays a FAILED chat with a corrected prompt version: a new generation linked to the original, side by side', async () => {
    const fixed = await audit.execute(admin, SET, {
      input: {
        name: 'knowledge.answer',
        system: 'Answer only from the numbered sources and cite them as [n].',
        user: '{{sources}}\n\nQuestion: {{question}}',
        comment: 'fix the broken system message',
      },
    });
    expect(fixed.data?.setPrompt).toEqual({ version: 2 });
    const sent = fake.requests.length;

    const { errors, data } = await replay(admin, { id: failedId, v: 2 });
    expect(errors).toBeUndefined();
    expect(fake.requests.length).toBe(sent + 1);
    expect(lastRequest().body.model).toBe('gpt-fake');
    expect(lastRequest().body.messages).toEqual([
      { role: 'system', content: 'Answer only from the numbered sources and cite them as [n].' },
      { role: 'user', content: `${sources}\n\nQuestion: ${question}` },
    ]);
    expect(data!.original).toMatchObject({
      id: failedId,
      status: 'FAILED',
      purpose: 'answer',
      promptVersion: 1,
      output: null,
      userName: 'rita@acme',
    });
    expect(data!.original.errorMessage).toMatch(/HTTP 400|refused|rejected/i);
    expect(data!.replay).toMatchObject({
      status: 'SUCCEEDED',
      purpose: 'replay',
      promptName: 'knowledge.answer',
      promptVersion: 2,
      model: 'gpt-fake',
      responseModel: 'gpt-fake-0613',
      output: 'The server listens on port 5432 [1].',
      errorMessage: null,
      // Attributed to the Admin who replayed it, not to the user of the original.
      actorKind: 'USER',
      userName: 'ada@acme',
      replayOf: { id: failedId },
    });
    expect(data!.original.replays).toEqual([{ id: data!.replay.id }]);
  });

  it('renders the recorded version by default and returns a refused replay as FAILED', async () => {
    const { errors, data } = await replay(admin, { id: failedId });
    expect(errors).toBeUndefined();
    expect(lastRequest().body.messages[0].content).toBe('BROKEN {{question');
    expect(data!.replay).toMatchObject({
      status: 'FAILED',
      promptVersion: 1,
      output: null,
      replayOf: { id: failedId },
    });
    expect(data!.replay.errorType).toBeTruthy();
  });

  it('asks another model when told, and keeps the messages that did not come from the template', async () => {
    const extra = [
      { role: 'assistant' as const, content: 'Which server do you mean?' },
      { role: 'user' as const, content: 'The PostgreSQL one.' },
    ];
    const originalId = await recordCall(reader, 2, extra);
    const { errors, data } = await replay(admin, { id: originalId, v: 0, model: 'gpt-other' });
    expect(errors).toBeUndefined();
    expect(lastRequest().body.model).toBe('gpt-other');
    const builtIn = renderPrompt(builtInVersion('knowledge.answer'), { question, sources });
    expect(lastRequest().body.messages).toEqual([...builtIn.messages, ...extra]);
    expect(data!.original).toMatchObject({ status: 'SUCCEEDED', promptVersion: 2, model: 'gpt-fake' });
    expect(data!.replay).toMatchObject({ status: 'SUCCEEDED', promptVersion: 0, model: 'gpt-other' });
  });

  it('refuses an embeddings generation, an unknown version, and another tenant’s generation', async () => {
    const scope = tenantScope(audit.orm, reader.tenantId);
    let embeddingsId = '';
    await recorder.observe(
      scope,
      {
        caller: callerOfIdentity(reader, 'search'),
        operation: 'embeddings',
        provider: 'openai',
        model: 'text-embedding-3-small',
        input: { inputs: [question] },
        estimatedTokens: 12,
      },
      async (handle) => {
        embeddingsId = handle.id;
        return [0.1, 0.2];
      },
      () => ({ inputTokens: 12, outputTokens: 0 }),
    );
    const sent = fake.requests.length;
    const embeddings = await replay(admin, { id: embeddingsId });
    expect(embeddings.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(embeddings.errors?.[0]?.message).toBe(
      `Generation ${embeddingsId} is an embeddings call; only chat generations can be replayed`,
    );
    const unknown = await replay(admin, { id: failedId, v: 9 });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknown.errors?.[0]?.message).toBe('Prompt knowledge.answer has no version 9');
    const theirs = await replay(stranger, { id: failedId, v: 0 });
    expect(theirs.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(fake.requests.length).toBe(sent);
  });

  it('is for Admins only, and audited', async () => {
    const denied = await replay(auditor, { id: failedId, v: 2 });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const res = await audit.execute(
      auditor,
      `{ auditEvents(filter: { action: "audit.replayGeneration" }) { edges { node { actor targetType targetId outcome } } } }`,
    );
    const events = (res.data!.auditEvents as { edges: { node: Record<string, string> }[] }).edges.map(
      (e) => e.node,
    );
    expect(
      events.filter((e) => e.outcome === 'SUCCESS' && e.targetId === failedId).map((e) => e.actor),
    ).toEqual(['ada@acme', 'ada@acme']);
    expect(events.filter((e) => e.outcome === 'DENIED').map((e) => e.actor)).toEqual(['audrey@acme']);
  });

  it('is budget-checked like any call: refused before the model is asked', async () => {
    const set = await audit.execute(
      admin,
      'mutation { setTokenBudget(input: { monthlyTokens: 10 }) { monthlyTokens } }',
    );
    expect(set.errors).toBeUndefined();
    const sent = fake.requests.length;
    const refused = await replay(admin, { id: failedId, v: 2 });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BUDGET_EXCEEDED');
    expect(fake.requests.length).toBe(sent);
    const replays = await audit.execute(
      auditor,
      'query ($id: ID!) { generation(id: $id) { replays { id } } }',
      {
        id: failedId,
      },
    );
    expect((replays.data!.generation as { replays: unknown[] }).replays).toHaveLength(2);
    await audit.execute(
      admin,
      'mutation { setTokenBudget(input: { monthlyTokens: null }) { monthlyTokens } }',
    );
  });

  it('is refused with a clear error where the service runs offline', async () => {
    const { errors } = await replay(admin, { id: failedId, v: 2 }, offline);
    expect(errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(errors?.[0]?.message).toMatch(
      /^Replaying a generation needs a chat model: this service runs with LLM_PROVIDER=offline; set LLM_PROVIDER to openai or azure/,
    );
  });
});
