// askStream through the gateway with LLM_PROVIDER=openai against a local server that speaks the
// chat-completions protocol (SSE): the model's tokens reach the graphql-ws client in order while
// the model is still writing, the citations come checked at the end, and a client that goes away
// cancels the model's request.
import { type FakeChatRequest, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { CORPUS } from '../../../subgraphs/knowledge/test/fixtures/corpus.ts';
import { type AskStreamEvent, askStreamClient } from '../support/ask-stream.ts';
import { type KnowledgePlatform, startKnowledgePlatform } from '../support/knowledge-platform.ts';

const ASK_STREAM = `subscription Ask($q: String!) {
  askStream(question: $q) {
    __typename
    ... on AnswerPiece { text }
    ... on Answer { text model unanswered usage { promptTokens completionTokens }
      citations { n quote chunk { text } document { id title } } }
  }
}`;

/** The number of the prompt's source that names a port. */
function portSource(request: FakeChatRequest): number {
  const prompt: string = request.body.messages[1].content;
  for (const block of prompt.split(/\n\n(?=\[\d+\] )/)) {
    const match = /^(?:Sources:\n\n)?\[(\d+)\] [^\n]*\n([\s\S]*)$/.exec(block);
    if (match && /port 5432/.test(match[2]!)) return Number(match[1]);
  }
  throw new Error('no source names the port');
}

const fake = await startFakeChatServer();
let knowledge: KnowledgePlatform;
let alice: string;
let postgresId = '';

beforeAll(async () => {
  knowledge = await startKnowledgePlatform({
    LLM_PROVIDER: 'openai',
    LLM_ENDPOINT: fake.baseUrl,
    LLM_MODEL: 'gpt-fake',
    LLM_API_KEY: 'sk-stream',
  });
  alice = await knowledge.platform.issuer.token('acme', 'alice', ['Reader']);
  const writer = await knowledge.platform.issuer.token('acme', 'carl', ['Contributor']);
  for (const doc of CORPUS.filter((d) => ['postgres', 'redis'].includes(d.key))) {
    const id = await knowledge.ingest(writer, { title: doc.title, text: doc.text });
    if (doc.key === 'postgres') postgresId = id;
  }
}, 180_000);
afterAll(async () => {
  await knowledge?.close();
  await fake.close();
});

function clientOf(token: string) {
  return askStreamClient(knowledge.platform.gateway.wsUrl, token);
}

describe('askStream with a chat model (LLM_PROVIDER=openai)', () => {
  it('delivers the model’s tokens in order while it writes, then the answer with checked citations', async () => {
    const received: string[] = [];
    let heard: (() => void) | undefined;
    // Resolves once the client has received text ending with `text`.
    const clientHas = (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (received.join('').endsWith(text)) resolve();
          else heard = check;
        };
        check();
      });
    let n = 0;
    const pieces = ['The server listens on port 5432', ' by default'];
    fake.enqueue((request, res) => {
      n = portSource(request);
      // A marker to a source it was never given ([42]) is taken out before it reaches the client.
      return reply.answer(
        {
          pieces: [...pieces, ` [${n}][42].`],
          usage: { prompt_tokens: 400, completion_tokens: 12 },
          model: 'gpt-fake-1',
        },
        // The model writes piece i only once the client has received piece i−1: no buffering on the way.
        { before: (i) => clientHas(pieces[i - 1]!) },
      )(request, res);
    });
    const client = clientOf(alice);
    const events: AskStreamEvent[] = [];
    try {
      for await (const result of client.iterate<{ askStream: AskStreamEvent }>({
        query: ASK_STREAM,
        variables: { q: 'What is the default port of the PostgreSQL server?' },
      })) {
        expect(result.errors).toBeUndefined();
        const event = result.data!.askStream;
        events.push(event);
        if (event.__typename === 'AnswerPiece') {
          received.push(event.text);
          heard?.();
        }
      }
    } finally {
      await client.dispose();
    }
    const answer = events.at(-1)!;
    expect(events.slice(0, -1).every((e) => e.__typename === 'AnswerPiece')).toBe(true);
    expect(received.join('')).toBe(`The server listens on port 5432 by default [${n}].`);
    expect(received.join('')).not.toContain('[42]');
    expect(answer).toMatchObject({
      __typename: 'Answer',
      text: `The server listens on port 5432 by default [${n}].`,
      model: 'gpt-fake-1',
      unanswered: false,
      usage: { promptTokens: 400, completionTokens: 12 },
    });
    expect(answer.citations).toHaveLength(1);
    expect(answer.citations![0]).toMatchObject({
      n,
      quote: 'The server listens on TCP port 5432 by default.',
      document: { id: postgresId, title: 'PostgreSQL connection settings' },
    });
    expect(answer.citations![0]!.chunk.text).toContain(answer.citations![0]!.quote);
  });

  it('cancels the model’s request when the client goes away mid-answer', async () => {
    const before = fake.requests.length;
    fake.enqueue(
      reply.answer(
        { pieces: ['The server listens', ' on port 5432', ' by default.'] },
        { cutAfter: { pieces: 1, how: 'hang' } },
      ),
    );
    const client = clientOf(alice);
    const iterator = client.iterate<{ askStream: AskStreamEvent }>({
      query: ASK_STREAM,
      variables: { q: 'What is the default port of the PostgreSQL server?' },
    });
    const first = await iterator.next();
    expect(first.value?.data?.askStream).toEqual({ __typename: 'AnswerPiece', text: 'The server listens' });
    expect(fake.requests.length).toBe(before + 1);
    // The client leaves: graphql-ws completes the subscription, the gateway closes its stream from
    // the knowledge subgraph, which aborts the model's request (the fake sees its client close).
    const closed = fake.clientClosed();
    await client.dispose();
    await closed;
  });

  it('cancels the model’s request when the client only completes the subscription', async () => {
    fake.enqueue(
      reply.answer(
        { pieces: ['The server listens', ' on port 5432'] },
        { cutAfter: { pieces: 1, how: 'hang' } },
      ),
    );
    const client = clientOf(alice);
    try {
      const iterator = client.iterate<{ askStream: AskStreamEvent }>({
        query: ASK_STREAM,
        variables: { q: 'What is the default port of the PostgreSQL server?' },
      });
      expect((await iterator.next()).value?.data?.askStream.__typename).toBe('AnswerPiece');
      const closed = fake.clientClosed(2);
      await iterator.return?.();
      await closed;
      // The connection is still open and serves the next stream.
      fake.enqueue(reply.answer({ pieces: ['The documents do not answer this question.'] }));
      const next = [];
      for await (const r of client.iterate<{ askStream: AskStreamEvent }>({
        query: ASK_STREAM,
        variables: { q: 'What is the port?' },
      }))
        next.push(r.data?.askStream.__typename);
      expect(next.at(-1)).toBe('Answer');
    } finally {
      await client.dispose();
    }
  });

  it('ends the stream with a clear error when the model service refuses, without its text', async () => {
    fake.enqueue(reply.status(401, {}, 'Incorrect API key provided: sk-st***'));
    const client = clientOf(alice);
    const results = [];
    try {
      for await (const r of client.iterate<{ askStream: AskStreamEvent }>({
        query: ASK_STREAM,
        variables: { q: 'What is the default port of the PostgreSQL server?' },
      }))
        results.push(r);
    } finally {
      await client.dispose();
    }
    const last = results.at(-1)!;
    expect(last.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(JSON.stringify(results)).not.toContain('Incorrect API key');
  });
});
