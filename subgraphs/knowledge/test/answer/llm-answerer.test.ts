import { ChatClient } from '#llm/chat-client.ts';
import { loadLlmConfig } from '#llm/config.ts';
import { LlmError } from '#llm/errors.ts';
import { type FakeChatServer, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import type { AnswerSource } from '../../src/answer/answerer.ts';
import { createLlmAnswerer, LlmAnswerer, NOT_ANSWERED } from '../../src/answer/llm-answerer.ts';

const sources: AnswerSource[] = [
  {
    n: 1,
    chunkId: 'chunk-1',
    documentId: 'doc-1',
    title: 'PostgreSQL Guide',
    headingPath: 'Server Configuration › Connections',
    page: 12,
    score: 0.9,
    text: 'The server listens on port 5432 by default. Change it with the port setting in postgresql.conf.',
  },
  {
    n: 2,
    chunkId: 'chunk-2',
    documentId: 'doc-2',
    title: 'Operations Handbook',
    headingPath: '',
    page: null,
    score: 0.5,
    text: 'Backups run nightly at 02:00. Restores are tested every month.',
  },
];

let fake: FakeChatServer;
beforeEach(async () => {
  fake = await startFakeChatServer();
});
afterEach(() => fake.close());

const answerer = () =>
  new LlmAnswerer(
    new ChatClient({
      url: `${fake.baseUrl}/chat/completions`,
      model: 'openai:gpt-test',
      requestModel: 'gpt-test',
      auth: { kind: 'bearer', apiKey: 'k' },
      timeoutMs: 5000,
      maxRetries: 0,
    }),
  );

describe('LLM answerer against a local chat-completions server', () => {
  it('sends a grounded prompt with numbered sources, streams the answer and parses its citations', async () => {
    fake.enqueue(
      reply.answer({
        pieces: ['The default port is ', '5432 [', '1]. Backups run ', 'nightly [2].'],
        usage: { prompt_tokens: 321, completion_tokens: 17 },
        model: 'gpt-test-2024',
      }),
    );
    const tokens: string[] = [];
    const draft = await answerer().answer('Which port does the server use?', sources, {
      onToken: (t) => tokens.push(t),
    });
    expect(draft).toEqual({
      text: 'The default port is 5432 [1]. Backups run nightly [2].',
      citations: [
        { n: 1, quote: 'The server listens on port 5432 by default.' },
        { n: 2, quote: 'Backups run nightly at 02:00.' },
      ],
      droppedCitations: 0,
      unanswered: false,
      model: 'gpt-test-2024',
      usage: { promptTokens: 321, completionTokens: 17 },
    });
    expect(tokens.length).toBeGreaterThan(1);
    expect(tokens.join('')).toBe(draft.text);

    const [system, user] = fake.requests[0]!.body.messages;
    expect(system.role).toBe('system');
    expect(system.content).toContain('using only the numbered sources');
    expect(system.content).toContain(`reply with exactly: "${NOT_ANSWERED}"`);
    expect(user.content).toBe(
      [
        'Sources:',
        '',
        '[1] PostgreSQL Guide › Server Configuration › Connections › page 12',
        sources[0]!.text,
        '',
        '[2] Operations Handbook',
        sources[1]!.text,
        '',
        'Question: Which port does the server use?',
      ].join('\n'),
    );
    expect(fake.requests[0]!.body).toMatchObject({ temperature: 0, max_tokens: 1024, stream: true });
  });

  it('removes citations of sources it was not given, from the stream and the text, and counts them', async () => {
    fake.enqueue(reply.answer({ pieces: ['Port 5432 [1, ', '3]. It is also 5433 [', '7].'] }));
    const tokens: string[] = [];
    const draft = await answerer().answer('Port?', sources, { onToken: (t) => tokens.push(t) });
    expect(draft.text).toBe('Port 5432 [1]. It is also 5433.');
    expect(tokens.join('')).toBe(draft.text);
    expect(draft.droppedCitations).toBe(2);
    expect(draft.citations).toEqual([{ n: 1, quote: 'The server listens on port 5432 by default.' }]);
  });

  it('answers without streaming when nobody listens for tokens', async () => {
    fake.enqueue(reply.answer({ pieces: ['Restores are tested monthly [2].'] }));
    const draft = await answerer().answer('How often are restores tested?', sources);
    expect(fake.requests[0]!.body.stream).toBeUndefined();
    expect(draft.citations).toEqual([{ n: 2, quote: 'Restores are tested every month.' }]);
  });

  it('is unanswered when the model says the sources do not answer, or cites none of them', async () => {
    fake.enqueue(
      reply.answer({ pieces: [NOT_ANSWERED], usage: { prompt_tokens: 50, completion_tokens: 8 } }),
      reply.answer({ pieces: ['Probably port 80 [9].'] }),
    );
    const refused = await answerer().answer('What is the CEO’s name?', sources, { onToken: () => {} });
    expect(refused).toMatchObject({
      text: NOT_ANSWERED,
      citations: [],
      unanswered: true,
      droppedCitations: 0,
    });
    expect(refused.usage).toEqual({ promptTokens: 50, completionTokens: 8 });
    const ungrounded = await answerer().answer('Port?', sources);
    expect(ungrounded).toMatchObject({
      text: NOT_ANSWERED,
      citations: [],
      unanswered: true,
      droppedCitations: 1,
    });
  });

  it('asks no model when nothing was retrieved', async () => {
    const tokens: string[] = [];
    const draft = await answerer().answer('Anything?', [], { onToken: (t) => tokens.push(t) });
    expect(draft).toMatchObject({
      text: NOT_ANSWERED,
      unanswered: true,
      usage: { promptTokens: 0, completionTokens: 0 },
    });
    expect(tokens).toEqual([NOT_ANSWERED]);
    expect(fake.requests).toEqual([]);
  });

  it('stops when the caller aborts in the middle of the answer', async () => {
    fake.enqueue(
      reply.answer({ pieces: ['The default ', 'port'] }, { cutAfter: { pieces: 1, how: 'hang' } }),
    );
    const controller = new AbortController();
    const attempt = answerer().answer('Port?', sources, {
      signal: controller.signal,
      onToken: () => controller.abort(),
    });
    await expect(attempt).rejects.toBeInstanceOf(LlmError);
    await expect(attempt).rejects.toMatchObject({ kind: 'aborted' });
    await fake.clientClosed(1);
  });

  it('is made from the LLM configuration', async () => {
    const config = loadLlmConfig({ LLM_PROVIDER: 'openai', LLM_ENDPOINT: fake.baseUrl, LLM_MODEL: 'gpt-x' });
    const made = await createLlmAnswerer(config);
    expect(made.model).toBe('openai:gpt-x');
    fake.enqueue(reply.answer({ pieces: ['Nightly [2].'] }));
    expect((await made.answer('When do backups run?', sources)).citations).toHaveLength(1);
    expect(fake.requests[0]!.body.model).toBe('gpt-x');
    await expect(createLlmAnswerer(loadLlmConfig({}))).rejects.toThrow(
      /LLM_PROVIDER must be openai or azure/,
    );
  });
});
