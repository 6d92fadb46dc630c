// A local HTTP server that speaks the chat-completions protocol (OpenAI / Azure OpenAI), for tests
// of the real clients: whole and SSE-streamed answers, tool calls, usage, error statuses with
// Retry-After, malformed bodies, cut streams and answers that never come.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the server received. */
export interface FakeChatRequest {
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  // biome-ignore lint/suspicious/noExplicitAny: the JSON body as sent, inspected by tests
  readonly body: any;
}

/** A tool call in a scripted answer. */
export interface FakeToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What a scripted answer says. */
export interface FakeAnswer {
  /** The text, as the pieces it is streamed in (joined for a whole answer). */
  pieces?: string[];
  toolCalls?: FakeToolCall[];
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  model?: string;
}

/** How the server answers one request. */
export type FakeBehaviour = (request: FakeChatRequest, res: ServerResponse) => void | Promise<void>;

/** Options of a streamed answer. */
export interface FakeStreamOptions {
  /** Awaited before piece `i` (i ≥ 1) is written, or the stream cut there: lets a test prove the client saw piece i−1 first. */
  before?: (i: number) => Promise<void>;
  /** After this many pieces, stop: `destroy` the socket, `end` the body cleanly (no [DONE]), or `hang` open. */
  cutAfter?: { pieces: number; how: 'destroy' | 'end' | 'hang' };
  /** Replaces the event of piece i with raw text (e.g. broken JSON). */
  raw?: Record<number, string>;
}

const completionId = 'chatcmpl-fake';

/** Scripted answers. */
export const reply = {
  /** A whole (non-streamed) answer; streamed when the request asked for a stream. */
  answer(answer: FakeAnswer, stream: FakeStreamOptions = {}): FakeBehaviour {
    return (request, res) =>
      request.body.stream ? writeStream(res, answer, stream) : writeWhole(res, answer);
  },
  /** An error status with an OpenAI-style error body. */
  status(code: number, headers: Record<string, string> = {}, message = `status ${code}`): FakeBehaviour {
    return (_request, res) => {
      res.writeHead(code, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify({ error: { message, type: 'fake', code: String(code) } }));
    };
  },
  /** A 200 with `text` as the body, whatever was asked. */
  raw(text: string, contentType = 'application/json'): FakeBehaviour {
    return (_request, res) => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(text);
    };
  },
  /** Never answers (until the client gives up or the server closes). */
  hang(): FakeBehaviour {
    return () => {};
  },
};

function writeWhole(res: ServerResponse, answer: FakeAnswer) {
  const toolCalls = answer.toolCalls ?? [];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: completionId,
      object: 'chat.completion',
      model: answer.model ?? 'fake-model',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: answer.pieces ? answer.pieces.join('') : null,
            ...(toolCalls.length
              ? {
                  tool_calls: toolCalls.map((c) => ({
                    id: c.id,
                    type: 'function',
                    function: { name: c.name, arguments: c.arguments },
                  })),
                }
              : {}),
          },
          finish_reason: answer.finishReason ?? (toolCalls.length ? 'tool_calls' : 'stop'),
        },
      ],
      ...(answer.usage === null
        ? {}
        : { usage: withTotal(answer.usage ?? { prompt_tokens: 10, completion_tokens: 5 }) }),
    }),
  );
}

const withTotal = (u: { prompt_tokens: number; completion_tokens: number }) => ({
  ...u,
  total_tokens: u.prompt_tokens + u.completion_tokens,
});

async function writeStream(res: ServerResponse, answer: FakeAnswer, options: FakeStreamOptions) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const model = answer.model ?? 'fake-model';
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id: completionId, object: 'chat.completion.chunk', model, choices, ...extra })}\n\n`;
  const events: string[] = [chunk([{ index: 0, delta: { role: 'assistant', content: '' } }])];
  for (const piece of answer.pieces ?? []) events.push(chunk([{ index: 0, delta: { content: piece } }]));
  // Tool calls arrive as deltas: id and name first, the arguments in two halves.
  (answer.toolCalls ?? []).forEach((call, index) => {
    const half = Math.ceil(call.arguments.length / 2);
    events.push(
      chunk([
        {
          index: 0,
          delta: {
            tool_calls: [
              {
                index,
                id: call.id,
                type: 'function',
                function: { name: call.name, arguments: call.arguments.slice(0, half) },
              },
            ],
          },
        },
      ]),
      chunk([
        { index: 0, delta: { tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] } },
      ]),
    );
  });
  const finish = answer.finishReason ?? (answer.toolCalls?.length ? 'tool_calls' : 'stop');
  events.push(chunk([{ index: 0, delta: {}, finish_reason: finish }]));
  if (answer.usage !== null) {
    events.push(chunk([], { usage: withTotal(answer.usage ?? { prompt_tokens: 10, completion_tokens: 5 }) }));
  }
  events.push('data: [DONE]\n\n');
  // Piece i of the text is event i + 1 (event 0 is the role).
  for (let i = 0; i < events.length; i++) {
    const piece = i - 1;
    if (options.cutAfter && piece === options.cutAfter.pieces) {
      if (piece >= 1 && options.before) await options.before(piece);
      if (options.cutAfter.how === 'destroy') res.socket?.destroy();
      else if (options.cutAfter.how === 'end') res.end();
      return;
    }
    if (piece >= 1 && options.before && piece < (answer.pieces?.length ?? 0)) await options.before(piece);
    res.write(options.raw?.[piece] ?? events[i]);
  }
  res.end();
}

/** A running fake server: its URLs, what it received, and how it is told to answer. */
export interface FakeChatServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** OpenAI-style base URL: `<origin>/v1`. */
  readonly baseUrl: string;
  readonly requests: FakeChatRequest[];
  /** Queues behaviours for the next requests, in order. */
  enqueue(...behaviours: FakeBehaviour[]): void;
  /** Resolves once `n` responses (default 1) were closed by the client before they were finished (abort, timeout). */
  clientClosed(n?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the fake server. Requests beyond the queue are answered by `fallback` (default: a short
 * streamed or whole answer "ok").
 */
export async function startFakeChatServer(
  fallback: FakeBehaviour = reply.answer({ pieces: ['ok'] }),
): Promise<FakeChatServer> {
  const queue: FakeBehaviour[] = [];
  const requests: FakeChatRequest[] = [];
  let earlyCloses = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  const closedEarly = () => {
    earlyCloses++;
    for (const w of waiters.filter((w) => earlyCloses >= w.n)) w.resolve();
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      raw += chunk;
    });
    req.on('end', () => {
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
      const request = { url: req.url ?? '', headers: req.headers, body };
      requests.push(request);
      res.on('close', () => {
        if (!res.writableFinished) closedEarly();
      });
      void (async () => (queue.shift() ?? fallback)(request, res))().catch((error: unknown) => {
        res.destroy(error as Error);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    baseUrl: `${origin}/v1`,
    requests,
    enqueue: (...behaviours) => queue.push(...behaviours),
    clientClosed: (n = 1) =>
      earlyCloses >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
