import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddingError } from '../../src/embeddings/embedder.ts';
import { HashedTrigramEmbedder } from '../../src/embeddings/hashed-embedder.ts';
import { OpenAiEmbedder } from '../../src/embeddings/openai-embedder.ts';
import { UniversalSentenceEncoder } from '../../src/embeddings/use-embedder.ts';

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe('offline embedders', () => {
  it('Universal Sentence Encoder loads from node_modules without any network and ranks meaning', async () => {
    const realFetch = globalThis.fetch;
    const fetched: string[] = [];
    globalThis.fetch = (async (input: Parameters<typeof fetch>[0]) => {
      fetched.push(String(input));
      throw new Error('network is off in this test');
    }) as typeof fetch;
    try {
      const use = new UniversalSentenceEncoder();
      const [query, paraphrase, unrelated] = await use.embed([
        'How do I reset my password?',
        'Steps to change a forgotten login password',
        'The quarterly revenue grew by eight percent',
      ]);
      expect(fetched).toEqual([]);
      expect(query).toHaveLength(512);
      expect(dot(query!, query!)).toBeCloseTo(1, 5);
      expect(dot(query!, paraphrase!)).toBeGreaterThan(dot(query!, unrelated!) + 0.2);
    } finally {
      globalThis.fetch = realFetch;
    }
  }, 60_000);

  it('hashed trigrams: deterministic unit vectors that match spellings', async () => {
    const hashed = new HashedTrigramEmbedder(256);
    const [a, b, c] = await hashed.embed([
      'database connection pool',
      'database connections pooled',
      'sunny weather',
    ]);
    expect(a).toHaveLength(256);
    expect(dot(a!, a!)).toBeCloseTo(1, 6);
    expect(await hashed.embed(['database connection pool'])).toEqual([a]);
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!));
    expect(hashed.model).toBe('hashed-trigram-256');
  });
});

/** A fake OpenAI-compatible embeddings server: answers from a queue of behaviours. */
function fakeServer(
  behaviours: ((req: IncomingMessage, body: { input: string[] }, res: ServerResponse) => void)[],
) {
  const seen: { auth?: string; apiKey?: string; input: string[]; url: string }[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as { input: string[] };
      seen.push({
        auth: req.headers.authorization,
        apiKey: req.headers['api-key'] as string | undefined,
        input: body.input,
        url: req.url ?? '',
      });
      const behave = behaviours.shift() ?? ok(3);
      behave(req, body, res);
    });
  });
  return {
    seen,
    async start() {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function ok(dimensions: number) {
  return (_req: IncomingMessage, body: { input: string[] }, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Reversed order with indices: the client must sort by index.
    const data = body.input
      .map((text, index) => ({
        index,
        embedding: Array.from({ length: dimensions }, (_, d) => (d === 0 ? text.length : 1)),
      }))
      .reverse();
    res.end(JSON.stringify({ data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } }));
  };
}

const status =
  (code: number, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, _b: unknown, res: ServerResponse) => {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ error: { message: `status ${code}` } }));
  };

describe('OpenAI-compatible embedder against a local server', () => {
  const options = {
    apiKey: 'sk-test',
    model: 'text-embedding-3-small',
    dimensions: 3,
    timeoutMs: 2000,
    maxRetries: 3,
    backoffMs: 10,
  };

  it('batches, sends the key, keeps the order and normalises', async () => {
    const fake = fakeServer([]);
    const endpoint = await fake.start();
    try {
      const embedder = new OpenAiEmbedder({ ...options, endpoint, batchSize: 2 });
      const vectors = await embedder.embed(['a', 'bbb', 'cc']);
      expect(fake.seen.map((s) => s.input)).toEqual([['a', 'bbb'], ['cc']]);
      expect(fake.seen[0]).toMatchObject({ auth: 'Bearer sk-test', url: '/v1/embeddings' });
      expect(vectors.map((v) => Math.round(v[0]! / v[1]!))).toEqual([1, 3, 2]);
      expect(dot(vectors[0]!, vectors[0]!)).toBeCloseTo(1, 6);
      expect(embedder.model).toBe('openai:text-embedding-3-small');
    } finally {
      await fake.close();
    }
  });

  it('retries 429 after its Retry-After and 5xx with backoff, then succeeds', async () => {
    const fake = fakeServer([status(429, { 'retry-after': '1' }), status(503), ok(3)]);
    const endpoint = await fake.start();
    try {
      const waits: number[] = [];
      const sleep = async (ms: number) => {
        waits.push(ms);
      };
      const embedder = new OpenAiEmbedder({ ...options, endpoint, batchSize: 8, sleep });
      expect(await embedder.embed(['x'])).toHaveLength(1);
      expect(fake.seen).toHaveLength(3);
      // The Retry-After second after the 429, then the doubled backoff (10 ms × 2) after the 503.
      expect(waits).toEqual([1000, 20]);
    } finally {
      await fake.close();
    }
  });

  it('fails clearly: refused request, wrong dimensions, retries exhausted, timeout', async () => {
    const fake = fakeServer([
      status(401),
      ok(5),
      status(500),
      status(500),
      status(500),
      status(500),
      (_req, _b, res) => setTimeout(() => ok(3)(_req, { input: ['x'] }, res), 1500),
    ]);
    const endpoint = await fake.start();
    try {
      const embedder = new OpenAiEmbedder({ ...options, endpoint, batchSize: 8 });
      await expect(embedder.embed(['x'])).rejects.toThrow(
        /^embeddings request refused: HTTP 401 from http:\/\/127\.0\.0\.1:\d+/,
      );
      await expect(embedder.embed(['x'])).rejects.toThrow(
        'model text-embedding-3-small returned 5-dimensional vectors; EMBEDDINGS_DIMENSIONS is 3',
      );
      await expect(embedder.embed(['x'])).rejects.toThrow(/^embeddings failed after 4 attempts: HTTP 500/);
      const impatient = new OpenAiEmbedder({
        ...options,
        endpoint,
        batchSize: 8,
        timeoutMs: 200,
        maxRetries: 0,
      });
      const timedOut = impatient.embed(['x']);
      await expect(timedOut).rejects.toThrow(/no answer from http:\/\/127\.0\.0\.1:\d+ within 200 ms/);
      await expect(timedOut).rejects.toBeInstanceOf(EmbeddingError);
    } finally {
      await fake.close();
    }
  });

  it('talks to an Azure OpenAI deployment with its api-key header and api-version', async () => {
    const fake = fakeServer([]);
    const base = await fake.start();
    try {
      const endpoint = `${base.replace(/\/v1$/, '')}/openai/deployments/emb?api-version=2024-10-21`;
      await new OpenAiEmbedder({ ...options, endpoint, batchSize: 8 }).embed(['x']);
      expect(fake.seen[0]).toMatchObject({
        apiKey: 'sk-test',
        auth: undefined,
        url: '/openai/deployments/emb/embeddings?api-version=2024-10-21',
      });
    } finally {
      await fake.close();
    }
  });
});
