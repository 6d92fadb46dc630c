// Embedding calls are GenAI client spans: the OpenTelemetry GenAI semantic conventions' names, the
// provider and model, and a failure of the real OpenAI client (against a local server) marked as such.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { loadKnowledgeConfig } from '../../src/config.ts';
import { createEmbedder } from '../../src/embeddings/create-embedder.ts';
import { OpenAiEmbedder } from '../../src/embeddings/openai-embedder.ts';
import { tracedEmbedder } from '../../src/embeddings/traced-embedder.ts';

let telemetry: Telemetry;
const spans = new InMemorySpanExporter();

beforeAll(() => {
  telemetry = startTelemetry({
    serviceName: 'knowledge',
    spanProcessors: [new SimpleSpanProcessor(spans)],
    instrumentations: [],
  });
});
afterAll(async () => {
  await telemetry?.shutdown();
});

describe('traced embedder', () => {
  it('makes each embed call a gen_ai embeddings span, inside the caller’s span', async () => {
    spans.reset();
    const config = loadKnowledgeConfig({ EMBEDDINGS_PROVIDER: 'hashed', EMBEDDINGS_DIMENSIONS: '64' });
    const embedder = createEmbedder(config.embeddings);
    const vectors = await trace.getTracer('t').startActiveSpan('ingest', async (parent) => {
      const out = await embedder.embed(['one passage', 'another passage']);
      parent.end();
      return out;
    });
    expect(vectors).toHaveLength(2);
    await telemetry.flush();
    const [span] = spans.getFinishedSpans().filter((s) => s.name.startsWith('embeddings '));
    const parent = spans.getFinishedSpans().find((s) => s.name === 'ingest')!;
    expect(span).toMatchObject({
      name: 'embeddings hashed-trigram-64',
      kind: 2,
      attributes: {
        'gen_ai.operation.name': 'embeddings',
        'gen_ai.provider.name': 'widgetdc.hashed',
        'gen_ai.request.model': 'hashed-trigram-64',
        'gen_ai.embeddings.dimension.count': 64,
        'widgetdc.embeddings.input_count': 2,
      },
    });
    expect(span!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(span!.status.code).toBe(0);
  });

  it('marks a refused provider call failed with its error type', async () => {
    spans.reset();
    const server = createServer((_req, res) =>
      res.writeHead(400, { 'content-type': 'application/json' }).end('{}'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
      const openai = new OpenAiEmbedder({
        endpoint,
        model: 'text-embedding-3-small',
        dimensions: 8,
        batchSize: 8,
        timeoutMs: 5000,
        maxRetries: 0,
      });
      await expect(tracedEmbedder(openai, 'openai').embed(['x'])).rejects.toThrow(/refused: HTTP 400/);
      await telemetry.flush();
      const [span] = spans.getFinishedSpans();
      expect(span).toMatchObject({
        name: 'embeddings text-embedding-3-small',
        attributes: {
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'text-embedding-3-small',
          'error.type': 'EmbeddingError',
        },
        status: { code: 2 },
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
