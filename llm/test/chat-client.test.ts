import { parseToolArguments } from '#llm/chat.ts';
import { ChatClient, type ChatClientOptions } from '#llm/chat-client.ts';
import { LlmError } from '#llm/errors.ts';
import { waitUnlessAborted } from '#llm/retry.ts';
import { type FakeChatServer, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';

let fake: FakeChatServer;
beforeEach(async () => {
  fake = await startFakeChatServer();
});
afterEach(() => fake.close());

/** A client of the fake server that records its waits between attempts instead of sleeping. */
function client(overrides: Partial<ChatClientOptions> = {}) {
  const waits: number[] = [];
  const chat = new ChatClient({
    url: `${fake.baseUrl}/chat/completions`,
    model: 'openai:gpt-test',
    requestModel: 'gpt-test',
    auth: { kind: 'bearer', apiKey: 'sk-test' },
    timeoutMs: 5000,
    maxRetries: 3,
    backoffMs: 10,
    wait: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return { chat, waits };
}

const question = { messages: [{ role: 'user' as const, content: 'Hello?' }] };

/** The LlmError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<LlmError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LlmError);
  return error as LlmError;
}

describe('ChatClient against a local chat-completions server', () => {
  it('asks for a whole answer with the bearer key and reads text, model and usage', async () => {
    fake.enqueue(
      reply.answer({
        pieces: ['Paris.'],
        usage: { prompt_tokens: 12, completion_tokens: 3 },
        model: 'gpt-test-0613',
      }),
    );
    const { chat } = client();
    const result = await chat.chat({ ...question, temperature: 0, maxTokens: 50 });
    expect(result).toEqual({
      text: 'Paris.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { promptTokens: 12, completionTokens: 3, totalTokens: 15 },
      model: 'gpt-test-0613',
      attempts: 1,
    });
    const [sent] = fake.requests;
    expect(sent!.url).toBe('/v1/chat/completions');
    expect(sent!.headers.authorization).toBe('Bearer sk-test');
    expect(sent!.body).toEqual({
      model: 'gpt-test',
      messages: [{ role: 'user', content: 'Hello?' }],
      temperature: 0,
      max_tokens: 50,
    });
  });

  it('streams the answer chunk by chunk: each piece reaches onToken before the server sends the next', async () => {
    const pieces = ['The ', 'answer ', 'is ', '42', '.'];
    const seen: string[] = [];
    const waiting = new Map<number, () => void>();
    const arrived = (i: number) => new Promise<void>((resolve) => waiting.set(i, resolve));
    // The server writes piece i only once the client has handed piece i-1 to onToken: a client
    // that buffered the body would never see the next piece and the test would not finish.
    const gates = pieces.map((_, i) => arrived(i));
    fake.enqueue(
      reply.answer(
        { pieces, usage: { prompt_tokens: 7, completion_tokens: 5 } },
        { before: (i) => gates[i - 1]! },
      ),
    );
    const { chat } = client();
    const result = await chat.chat(question, {
      onToken: (text) => {
        seen.push(text);
        waiting.get(seen.length - 1)?.();
      },
    });
    expect(seen).toEqual(pieces);
    expect(result.text).toBe('The answer is 42.');
    expect(result.usage).toEqual({ promptTokens: 7, completionTokens: 5, totalTokens: 12 });
    expect(result.finishReason).toBe('stop');
    expect(fake.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    expect(fake.requests[0]!.headers.accept).toBe('text/event-stream');
  });

  it('sends tools and reads the tool calls of a whole and of a streamed answer', async () => {
    const calls = [
      { id: 'call_1', name: 'knowledge_search', arguments: '{"query":"vacation policy","first":5}' },
      { id: 'call_2', name: 'notes_create', arguments: '{"title":"Q3"}' },
    ];
    fake.enqueue(reply.answer({ toolCalls: calls }), reply.answer({ toolCalls: calls }));
    const { chat } = client();
    const request = {
      messages: [
        { role: 'system' as const, content: 'Plan.' },
        { role: 'user' as const, content: 'Find the policy' },
        {
          role: 'assistant' as const,
          content: null,
          toolCalls: [{ id: 'call_0', name: 'x', arguments: '{}' }],
        },
        { role: 'tool' as const, toolCallId: 'call_0', content: '{"ok":true}' },
      ],
      tools: [
        {
          name: 'knowledge_search',
          description: 'Searches the documents',
          parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
        },
      ],
      toolChoice: 'required' as const,
    };
    const whole = await chat.chat(request);
    const streamed = await chat.chat(request, { stream: true });
    for (const result of [whole, streamed]) {
      expect(result.toolCalls).toEqual(calls);
      expect(result.finishReason).toBe('tool_calls');
      expect(result.text).toBe('');
    }
    expect(parseToolArguments(streamed.toolCalls[0]!)).toEqual({ query: 'vacation policy', first: 5 });
    expect(parseToolArguments({ id: 'c', name: 'n', arguments: '{"unclosed": ' })).toBeUndefined();
    expect(fake.requests[0]!.body).toMatchObject({
      tools: [
        { type: 'function', function: { name: 'knowledge_search', description: 'Searches the documents' } },
      ],
      tool_choice: 'required',
      messages: [
        { role: 'system', content: 'Plan.' },
        { role: 'user', content: 'Find the policy' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'x', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 'call_0', content: '{"ok":true}' },
      ],
    });
  });

  it('waits out a 429 for its Retry-After (seconds or HTTP date, capped), then succeeds', async () => {
    fake.enqueue(
      reply.status(429, { 'retry-after': '2' }),
      reply.status(429, { 'retry-after': new Date(Date.now() + 600_000).toUTCString() }),
      reply.answer({ pieces: ['fine'] }),
    );
    const { chat, waits } = client({ maxRetryAfterMs: 30_000 });
    const result = await chat.chat(question);
    expect(result).toMatchObject({ text: 'fine', attempts: 3 });
    expect(waits).toEqual([2000, 30_000]);
    expect(chat.requests).toBe(3);
  });

  it('retries a 500 and a 503 with doubling backoff, then succeeds', async () => {
    fake.enqueue(reply.status(500), reply.status(503), reply.answer({ pieces: ['back'] }));
    const { chat, waits } = client();
    expect(await chat.chat(question, { onToken: () => {} })).toMatchObject({ text: 'back', attempts: 3 });
    expect(waits).toEqual([10, 20]);
  });

  it('gives up with a clear error: rate limited on every attempt, refused key, bad request', async () => {
    fake.enqueue(...Array.from({ length: 4 }, () => reply.status(429)));
    const { chat } = client();
    const limited = await failure(chat.chat(question));
    expect(limited).toMatchObject({ kind: 'rate_limited', status: 429, code: 'SERVICE_UNAVAILABLE' });
    expect(limited.message).toMatch(
      /^The language model at 127\.0\.0\.1:\d+ is busy \(HTTP 429: too many requests\) \(4 attempts\); try again in a minute\.$/,
    );

    fake.enqueue(reply.status(401, {}, 'Incorrect API key provided: sk-te***'));
    const refused = await failure(chat.chat(question));
    expect(refused).toMatchObject({ kind: 'unauthorized', status: 401 });
    // The server's text (which may echo part of the key) is not repeated to the user.
    expect(refused.message).not.toMatch(/sk-/);
    expect(refused.message).toMatch(
      /refused the platform's credentials \(HTTP 401\); an administrator must check/,
    );

    fake.enqueue(reply.status(400, {}, "This model's maximum context length is 8192 tokens."));
    const bad = await failure(chat.chat(question));
    expect(bad).toMatchObject({ kind: 'http', status: 400 });
    expect(bad.message).toContain(
      "refused the request (HTTP 400: This model's maximum context length is 8192 tokens.)",
    );
    expect(fake.requests).toHaveLength(6);
  });

  it('reports malformed answers: a body that is not JSON, JSON without choices, a broken streamed chunk', async () => {
    fake.enqueue(
      reply.raw('<html>502 Bad Gateway</html>'),
      reply.raw('{"object":"chat.completion"}'),
      reply.answer({ pieces: ['a', 'b'] }, { raw: { 0: 'data: {"choices": [{"delta": \n\n' } }),
    );
    const { chat } = client();
    const notJson = await failure(chat.chat(question));
    expect(notJson.kind).toBe('malformed');
    expect(notJson.message).toContain(
      'sent an answer we cannot read: the answer is not JSON (it begins "<html>502',
    );
    const noChoices = await failure(chat.chat(question));
    expect(noChoices.message).toContain('the answer is not a chat completion (choices:');
    const tokens: string[] = [];
    const broken = await failure(chat.chat(question, { onToken: (t) => tokens.push(t) }));
    expect(broken.kind).toBe('malformed');
    expect(broken.message).toContain('a streamed chunk is not JSON');
    expect(tokens).toEqual([]);
    expect(fake.requests).toHaveLength(3); // malformed answers are not retried
  });

  it('a stream cut mid-way after text was delivered ends with "interrupted", without a retry that would repeat it', async () => {
    const tokens: string[] = [];
    let received: () => void = () => {};
    const twoPieces = new Promise<void>((resolve) => {
      received = resolve;
    });
    // The socket is destroyed once the client has handed both pieces on (an earlier cut is a retry).
    fake.enqueue(
      reply.answer(
        { pieces: ['one ', 'two ', 'three'] },
        { cutAfter: { pieces: 2, how: 'destroy' }, before: (i) => (i === 2 ? twoPieces : Promise.resolve()) },
      ),
    );
    const { chat } = client();
    const cut = await failure(
      chat.chat(question, {
        onToken: (t) => {
          if (tokens.push(t) === 2) received();
        },
      }),
    );
    expect(tokens).toEqual(['one ', 'two ']);
    expect(cut.kind).toBe('interrupted');
    expect(cut.message).toMatch(/broke off after 8 characters \(cannot be reached \(.+\)\); try again\.$/);
    expect(fake.requests).toHaveLength(1);

    // A body that ends cleanly without its end ([DONE], finish reason) is cut too.
    fake.enqueue(reply.answer({ pieces: ['half'] }, { cutAfter: { pieces: 1, how: 'end' } }));
    const ended = await failure(chat.chat(question, { onToken: () => {} }));
    expect(ended.kind).toBe('interrupted');
    expect(ended.message).toContain(
      'broke off after 4 characters (ended its streamed answer before the end)',
    );
  });

  it('a stream cut before any text is simply retried', async () => {
    fake.enqueue(
      reply.answer({ pieces: ['x'] }, { cutAfter: { pieces: 0, how: 'destroy' } }),
      reply.answer({ pieces: ['whole'] }),
    );
    const { chat, waits } = client();
    const tokens: string[] = [];
    expect(await chat.chat(question, { onToken: (t) => tokens.push(t) })).toMatchObject({
      text: 'whole',
      attempts: 2,
    });
    expect(tokens).toEqual(['whole']);
    expect(waits).toEqual([10]);
  });

  it('times out an answer that does not start, retries, and names the timeout when every attempt fails', async () => {
    fake.enqueue(reply.hang(), reply.answer({ pieces: ['late but here'] }));
    const { chat } = client({ timeoutMs: 1000, maxRetries: 1 });
    expect(await chat.chat(question)).toMatchObject({ text: 'late but here', attempts: 2 });
    await fake.clientClosed(1);

    fake.enqueue(reply.hang(), reply.hang());
    const timedOut = await failure(chat.chat(question));
    expect(timedOut.kind).toBe('timeout');
    expect(timedOut.message).toMatch(
      /^The language model at 127\.0\.0\.1:\d+ sent nothing for 1 s \(2 attempts\); try again later\.$/,
    );
  });

  it('times out a stream that stalls between chunks', async () => {
    fake.enqueue(reply.answer({ pieces: ['so ', 'far'] }, { cutAfter: { pieces: 1, how: 'hang' } }));
    const { chat } = client({ timeoutMs: 1500, maxRetries: 0 });
    const tokens: string[] = [];
    const stalled = await failure(chat.chat(question, { onToken: (t) => tokens.push(t) }));
    expect(tokens).toEqual(['so ']);
    expect(stalled.kind).toBe('timeout');
    expect(stalled.message).toContain('broke off after 3 characters (sent nothing for 1500 ms)');
    await fake.clientClosed(1);
  });

  it('aborts mid-stream: the caller’s signal stops the answer and closes the connection', async () => {
    fake.enqueue(reply.answer({ pieces: ['first ', 'never'] }, { cutAfter: { pieces: 1, how: 'hang' } }));
    const { chat } = client();
    const controller = new AbortController();
    const tokens: string[] = [];
    const aborted = await failure(
      chat.chat(question, {
        signal: controller.signal,
        onToken: (t) => {
          tokens.push(t);
          controller.abort();
        },
      }),
    );
    expect(aborted.kind).toBe('aborted');
    expect(aborted.message).toBe('The request to the language model was cancelled.');
    expect(tokens).toEqual(['first ']);
    await fake.clientClosed(1);
  });

  it('aborts while waiting to retry, and refuses to start with an aborted signal', async () => {
    fake.enqueue(reply.status(503));
    const controller = new AbortController();
    let waiting: () => void = () => {};
    const waitStarted = new Promise<void>((resolve) => {
      waiting = resolve;
    });
    const chat = new ChatClient({
      url: `${fake.baseUrl}/chat/completions`,
      model: 'openai:gpt-test',
      auth: { kind: 'none' },
      timeoutMs: 5000,
      maxRetries: 3,
      backoffMs: 60_000,
      // The real wait, which must give up when the signal aborts (a minute of backoff otherwise).
      wait: (ms, signal) => {
        waiting();
        return waitUnlessAborted(ms, signal);
      },
    });
    const pending = chat.chat(question, { signal: controller.signal });
    await waitStarted;
    controller.abort();
    expect((await failure(pending)).kind).toBe('aborted');
    expect(fake.requests).toHaveLength(1);
    expect((await failure(chat.chat(question, { signal: controller.signal }))).kind).toBe('aborted');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.headers.authorization).toBeUndefined();
  });

  it('names an endpoint that cannot be reached', async () => {
    const origin = fake.origin;
    await fake.close();
    const chat = new ChatClient({
      url: `${origin}/v1/chat/completions`,
      model: 'openai:gpt-test',
      auth: { kind: 'api-key', apiKey: 'k' },
      timeoutMs: 2000,
      maxRetries: 0,
    });
    const down = await failure(chat.chat(question));
    expect(down.kind).toBe('network');
    expect(down.message).toMatch(/cannot be reached \(ECONNREFUSED\); try again later\.$/);
    fake = await startFakeChatServer();
  });
});
