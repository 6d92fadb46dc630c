import { ChatClient } from '#llm/chat-client.ts';
import { LlmError } from '#llm/errors.ts';
import { tokenStream } from '#llm/token-stream.ts';
import { type FakeChatServer, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';

let fake: FakeChatServer;
beforeEach(async () => {
  fake = await startFakeChatServer();
});
afterEach(() => fake.close());

const client = () =>
  new ChatClient({
    url: `${fake.baseUrl}/chat/completions`,
    model: 'openai:m',
    auth: { kind: 'none' },
    timeoutMs: 5000,
    maxRetries: 0,
  });
const question = { messages: [{ role: 'user' as const, content: 'q' }] };

describe('a streamed model call as an async iterator', () => {
  it('yields the tokens in order, then the result', async () => {
    fake.enqueue(reply.answer({ pieces: ['one ', 'two ', 'three'] }));
    const chat = client();
    const items: unknown[] = [];
    for await (const item of tokenStream(({ signal, onToken }) => chat.chat(question, { signal, onToken }))) {
      items.push('token' in item ? item.token : `result: ${item.result.text}`);
    }
    expect(items).toEqual(['one ', 'two ', 'three', 'result: one two three']);
  });

  it('closing the iterator early aborts the model call and closes its connection', async () => {
    fake.enqueue(reply.answer({ pieces: ['first ', 'second'] }, { cutAfter: { pieces: 1, how: 'hang' } }));
    const chat = client();
    let outcome: unknown;
    const stream = tokenStream(({ signal, onToken }) =>
      chat.chat(question, { signal, onToken }).catch((error: unknown) => {
        outcome = error;
        throw error;
      }),
    );
    for await (const item of stream) {
      expect(item).toEqual({ token: 'first ' });
      break;
    }
    await fake.clientClosed(1);
    expect(outcome).toBeInstanceOf(LlmError);
    expect((outcome as LlmError).kind).toBe('aborted');
  });

  it('throws the call’s failure after the tokens that came before it', async () => {
    fake.enqueue(reply.answer({ pieces: ['partial ', 'rest'] }, { cutAfter: { pieces: 1, how: 'end' } }));
    const chat = client();
    const tokens: string[] = [];
    const consume = async () => {
      for await (const item of tokenStream(({ signal, onToken }) =>
        chat.chat(question, { signal, onToken }),
      )) {
        if ('token' in item) tokens.push(item.token);
      }
    };
    await expect(consume()).rejects.toMatchObject({ kind: 'interrupted' });
    expect(tokens).toEqual(['partial ']);
  });

  it('an outer signal aborts the call too', async () => {
    fake.enqueue(reply.hang());
    const chat = client();
    const controller = new AbortController();
    const stream = tokenStream(
      ({ signal, onToken }) => chat.chat(question, { signal, onToken }),
      controller.signal,
    );
    const next = stream.next();
    controller.abort();
    await expect(next).rejects.toMatchObject({ kind: 'aborted' });
  });
});
