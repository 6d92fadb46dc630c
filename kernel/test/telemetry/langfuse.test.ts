// Langfuse: with its keys set, every process's spans also go over OTLP/HTTP (the real exporters,
// protobuf and JSON) to `<LANGFUSE_BASE_URL>/api/public/otel/v1/traces` with Basic authentication,
// here a local receiver. A real model call (the llm package's client against a local
// chat-completions server) inside a request is exported as a Langfuse generation with its model and
// usage, under the request's user and the task's session; the other exporters keep the standard
// attributes only.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '#kernel/errors.ts';
import { ATTR_SESSION_ID, ATTR_USER_ID } from '#kernel/telemetry/attributes.ts';
import {
  LANGFUSE_CLOUD,
  langfuseSettings,
  langfuseSpanProcessor,
  TraceIdentityPropagator,
} from '#kernel/telemetry/langfuse.ts';
import { startTelemetry } from '#kernel/telemetry/sdk.ts';
import { ChatClient } from '#llm/chat-client.ts';
import { type FakeChatServer, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}
interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  spans: ExportedSpan[];
  service: string;
}

// --- A minimal protobuf reader for ExportTraceServiceRequest (opentelemetry-proto trace/v1) -------

type Field = { no: number; wire: number; value: bigint | Buffer };
function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let i = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[i++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const no = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ no, wire, value: varint() });
    else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(i, i + 8) });
      i += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ no, wire, value: buf.subarray(i, i + length) });
      i += length;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(i, i + 4) });
      i += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}
const bytesOf = (fs: Field[], no: number) => fs.filter((f) => f.no === no).map((f) => f.value as Buffer);
/** AnyValue: string 1, bool 2, int 3, double 4. */
function anyValue(buf: Buffer): unknown {
  const [f] = fields(buf);
  if (!f) return undefined;
  if (f.no === 1) return (f.value as Buffer).toString('utf8');
  if (f.no === 2) return f.value === 1n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.value as bigint));
  if (f.no === 4) return (f.value as Buffer).readDoubleLE(0);
  return undefined;
}
function keyValues(list: Buffer[]): Record<string, unknown> {
  return Object.fromEntries(
    list.map((kv) => {
      const fs = fields(kv);
      return [bytesOf(fs, 1)[0]!.toString('utf8'), anyValue(bytesOf(fs, 2)[0] ?? Buffer.alloc(0))];
    }),
  );
}
function decodeProtobuf(body: Buffer): { service: string; spans: ExportedSpan[] } {
  const spans: ExportedSpan[] = [];
  let service = '';
  for (const resourceSpans of bytesOf(fields(body), 1)) {
    const rs = fields(resourceSpans);
    const resource = bytesOf(rs, 1)[0];
    if (resource) service = String(keyValues(bytesOf(fields(resource), 1))['service.name']);
    for (const scopeSpans of bytesOf(rs, 2)) {
      for (const span of bytesOf(fields(scopeSpans), 2)) {
        const s = fields(span);
        spans.push({
          traceId: bytesOf(s, 1)[0]!.toString('hex'),
          spanId: bytesOf(s, 2)[0]!.toString('hex'),
          parentSpanId: (bytesOf(s, 4)[0] ?? Buffer.alloc(0)).toString('hex'),
          name: bytesOf(s, 5)[0]!.toString('utf8'),
          attributes: keyValues(bytesOf(s, 9)),
        });
      }
    }
  }
  return { service, spans };
}

type JsonValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
function decodeJson(body: Buffer): { service: string; spans: ExportedSpan[] } {
  const value = (v: JsonValue) =>
    v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
  const attrs = (list: { key: string; value: JsonValue }[] = []) =>
    Object.fromEntries(list.map((a) => [a.key, value(a.value)]));
  const parsed = JSON.parse(body.toString('utf8')) as {
    resourceSpans: {
      resource: { attributes: { key: string; value: JsonValue }[] };
      scopeSpans: {
        spans: (Omit<ExportedSpan, 'attributes'> & { attributes: { key: string; value: JsonValue }[] })[];
      }[];
    }[];
  };
  const spans: ExportedSpan[] = [];
  let service = '';
  for (const rs of parsed.resourceSpans) {
    service = String(attrs(rs.resource.attributes)['service.name']);
    for (const ss of rs.scopeSpans)
      for (const s of ss.spans)
        spans.push({ ...s, parentSpanId: s.parentSpanId ?? '', attributes: attrs(s.attributes) });
  }
  return { service, spans };
}

// --------------------------------------------------------------------------------------------------

async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const json = (req.headers['content-type'] ?? '').includes('json');
      const decoded = json ? decodeJson(body) : decodeProtobuf(body);
      received.push({ path: req.url ?? '', headers: req.headers, ...decoded });
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, received };
}

describe('export to Langfuse over OTLP from a process started with its keys', () => {
  const protocol = 'http/protobuf';
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let chatServer: FakeChatServer;
  let telemetry: ReturnType<typeof startTelemetry>;
  const local = new InMemorySpanExporter();

  beforeAll(async () => {
    receiver = await startReceiver();
    chatServer = await startFakeChatServer();
    telemetry = startTelemetry({
      serviceName: 'langfuse-test',
      instrumentations: [],
      spanProcessors: [new SimpleSpanProcessor(local)],
      env: {
        LANGFUSE_PUBLIC_KEY: 'pk-lf-test',
        LANGFUSE_SECRET_KEY: 'sk-lf-secret',
        LANGFUSE_BASE_URL: `${receiver.url}/`,
        LANGFUSE_OTLP_PROTOCOL: protocol,
      },
    });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await chatServer?.close();
    await new Promise((done) => receiver?.server.close(done));
  });

  it('sends every span with Basic authentication, a model call as a generation with model, usage, user and session', async () => {
    chatServer.enqueue(
      reply.answer({
        pieces: ['Paris.'],
        usage: { prompt_tokens: 12, completion_tokens: 3 },
        model: 'gpt-test-0613',
      }),
    );
    const chat = new ChatClient({
      url: `${chatServer.baseUrl}/chat/completions`,
      model: 'openai:gpt-test',
      requestModel: 'gpt-test',
      auth: { kind: 'bearer', apiKey: 'sk-test' },
      timeoutMs: 5000,
      maxRetries: 0,
      backoffMs: 10,
    });
    const tracer = trace.getTracer('langfuse-test');
    await tracer.startActiveSpan(
      'query Ask',
      { kind: SpanKind.SERVER, attributes: { [ATTR_USER_ID]: 'user-oid-1', [ATTR_SESSION_ID]: 'task-42' } },
      async (root) => {
        await chat.chat({ messages: [{ role: 'user', content: 'Capital of France?' }] });
        root.end();
      },
    );
    await telemetry.flush();

    const requests = receiver.received;
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.path).toBe('/api/public/otel/v1/traces');
      expect(r.headers.authorization).toBe(
        `Basic ${Buffer.from('pk-lf-test:sk-lf-secret').toString('base64')}`,
      );
      expect(r.headers['content-type']).toContain('protobuf');
      expect(r.service).toBe('langfuse-test');
    }
    const spans = requests.flatMap((r) => r.spans);
    const root = spans.find((s) => s.name === 'query Ask');
    const generation = spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(root).toBeDefined();
    expect(generation).toBeDefined();
    expect(generation?.parentSpanId).toBe(root?.spanId);
    expect(generation?.traceId).toBe(root?.traceId);
    expect(root?.attributes).toMatchObject({
      'langfuse.user.id': 'user-oid-1',
      'langfuse.session.id': 'task-42',
    });
    expect(generation?.attributes).toMatchObject({
      'langfuse.observation.type': 'generation',
      'langfuse.observation.model.name': 'gpt-test-0613',
      'langfuse.user.id': 'user-oid-1',
      'langfuse.session.id': 'task-42',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 3,
    });
    expect(JSON.parse(String(generation?.attributes['langfuse.observation.usage_details']))).toEqual({
      input: 12,
      output: 3,
      total: 15,
    });

    // The other processors see the standard attributes (user and session inherited), not Langfuse's.
    const kept = local.getFinishedSpans().find((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(kept?.attributes[ATTR_USER_ID]).toBe('user-oid-1');
    expect(kept?.attributes[ATTR_SESSION_ID]).toBe('task-42');
    expect(Object.keys(kept?.attributes ?? {}).filter((k) => k.startsWith('langfuse.'))).toEqual([]);
    local.reset();
  });
});

describe('export to Langfuse over OTLP/JSON', () => {
  it('sends the same mapping as JSON (LANGFUSE_OTLP_PROTOCOL=http/json)', async () => {
    const receiver = await startReceiver();
    const settings = langfuseSettings({
      LANGFUSE_PUBLIC_KEY: 'pk-lf-json',
      LANGFUSE_SECRET_KEY: 'sk-lf-json',
      LANGFUSE_BASE_URL: receiver.url,
      LANGFUSE_OTLP_PROTOCOL: 'http/json',
    })!;
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'langfuse-json-test' }),
      spanProcessors: [new TraceIdentityPropagator(), langfuseSpanProcessor(settings)],
    });
    try {
      const tracer = provider.getTracer('langfuse-json-test');
      const root = tracer.startSpan('query Ask', { attributes: { [ATTR_USER_ID]: 'user-oid-2' } });
      const child = tracer.startSpan(
        'embeddings text-embedding-3-small',
        {
          attributes: {
            'gen_ai.operation.name': 'embeddings',
            'gen_ai.request.model': 'text-embedding-3-small',
            'gen_ai.usage.input_tokens': 7,
          },
        },
        trace.setSpan(context.active(), root),
      );
      child.end();
      root.end();
      await provider.forceFlush();
      const [request] = receiver.received;
      expect(request?.headers['content-type']).toContain('json');
      expect(request?.headers.authorization).toBe(
        `Basic ${Buffer.from('pk-lf-json:sk-lf-json').toString('base64')}`,
      );
      const embedding = request?.spans.find((s) => s.name.startsWith('embeddings'));
      expect(request?.service).toBe('langfuse-json-test');
      expect(embedding?.attributes).toMatchObject({
        'langfuse.observation.type': 'embedding',
        'langfuse.observation.model.name': 'text-embedding-3-small',
        'langfuse.user.id': 'user-oid-2',
      });
      expect(JSON.parse(String(embedding?.attributes['langfuse.observation.usage_details']))).toEqual({
        input: 7,
        total: 7,
      });
    } finally {
      await provider.shutdown();
      await new Promise((done) => receiver.server.close(done));
    }
  });
});

describe('Langfuse settings', () => {
  it('is off without keys, defaults to Langfuse Cloud and protobuf, and names what is wrong', () => {
    expect(langfuseSettings({})).toBeUndefined();
    expect(langfuseSettings({ LANGFUSE_PUBLIC_KEY: 'pk', LANGFUSE_SECRET_KEY: 'sk' })).toEqual({
      baseUrl: LANGFUSE_CLOUD,
      publicKey: 'pk',
      secretKey: 'sk',
      protocol: 'http/protobuf',
    });
    let error: unknown;
    try {
      langfuseSettings({
        LANGFUSE_PUBLIC_KEY: 'pk',
        LANGFUSE_BASE_URL: 'ftp://x',
        LANGFUSE_OTLP_PROTOCOL: 'grpc',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'LANGFUSE_SECRET_KEY must be set with LANGFUSE_PUBLIC_KEY (sk-lf-…)',
      'LANGFUSE_BASE_URL must be an http:// or https:// URL (got "ftp://x")',
      'LANGFUSE_OTLP_PROTOCOL must be http/protobuf or http/json (got "grpc")',
    ]);
  });
});
