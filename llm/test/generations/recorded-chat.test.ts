// recordedChat with the real ChatClient against a local chat-completions server and a real
// database: streamed answers record their time to first token; an API error reported inside the
// stream is a FAILED generation, and both the record and the exported chat span carry its message
// with the redaction policy applied.
import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Identity } from '#kernel/auth/identity.ts';
import { tenantScope } from '#kernel/db/tenant-context.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { ChatClient } from '#llm/chat-client.ts';
import { LlmError } from '#llm/errors.ts';
import { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import { callerOfIdentity } from '#llm/generations/record.ts';
import { type RecordingContext, recordedChat } from '#llm/generations/recorded-chat.ts';
import { reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { auditSubgraph } from '../../../subgraphs/audit/src/subgraph.ts';

const fake = await startFakeChatServer();
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let db: TestDatabase;
let harness: SubgraphHarness;
let ada: Identity;
let recording: RecordingContext;
const client = new ChatClient({
  url: `${fake.baseUrl}/chat/completions`,
  model: 'openai:gpt-4o-mini',
  requestModel: 'gpt-4o-mini',
  auth: { kind: 'bearer', apiKey: 'sk-test' },
  timeoutMs: 5000,
  maxRetries: 0,
});

const rows = (id: string) =>
  db.asSuperuser<{
    status: string;
    error_type: string;
    error_message: string;
    ttft_ms: number | null;
    span_id: string;
    trace_id: string;
    output: string;
  }>(
    'select status, error_type, error_message, ttft_ms, span_id, trace_id, output from observability.generations where id = $1',
    [id],
  );

beforeAll(async () => {
  telemetry = startTelemetry({
    serviceName: 'llm-test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    instrumentations: [],
  });
  db = await createTestDatabase();
  harness = await createSubgraphHarness(auditSubgraph, db);
  ada = await harness.identity('acme', 'ada', ['Admin']);
  recording = {
    recorder: new GenerationRecorder(),
    scope: tenantScope(harness.orm, ada.tenantId),
    caller: callerOfIdentity(ada, 'answer'),
  };
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await db?.close();
  await telemetry?.shutdown();
  await fake.close();
});

describe('recordedChat', () => {
  it('records a streamed answer with its time to first token, the chat span and the record naming each other', async () => {
    fake.enqueue(
      reply.answer({
        pieces: ['Hel', 'lo'],
        usage: { prompt_tokens: 9, completion_tokens: 2 },
        model: 'gpt-4o-mini-2024-07-18',
      }),
    );
    const pieces: string[] = [];
    const result = await recordedChat(
      recording,
      client,
      { messages: [{ role: 'user', content: 'Hi' }] },
      { onToken: (t) => pieces.push(t) },
    );
    expect(result.text).toBe('Hello');
    expect(pieces.join('')).toBe('Hello');
    await telemetry.flush();
    const span = exporter.getFinishedSpans().find((s) => s.name === 'chat gpt-4o-mini')!;
    const id = span.attributes['widgetdc.generation.id'] as string;
    const [row] = await rows(id);
    expect(row).toMatchObject({
      status: 'SUCCEEDED',
      output: 'Hello',
      span_id: span.spanContext().spanId,
      trace_id: span.spanContext().traceId,
    });
    expect(row!.ttft_ms).toBeGreaterThanOrEqual(0);
  });

  it('records an error inside the stream as FAILED, redacted in the record and on the span', async () => {
    exporter.reset();
    fake.enqueue(
      reply.answer(
        { pieces: ['a', 'b'] },
        {
          raw: {
            1: 'data: {"error": {"message": "quota of ops@example.com exceeded (key sk-live-abcdefghijklmnopqrst)"}}\n\n',
          },
        },
      ),
    );
    await expect(
      recordedChat(recording, client, { messages: [{ role: 'user', content: 'Hi' }] }, { onToken: () => {} }),
    ).rejects.toThrow(LlmError);
    await telemetry.flush();
    const span = exporter.getFinishedSpans().find((s) => s.name === 'chat gpt-4o-mini')!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.status.message).toContain('quota of [REDACTED:email] exceeded (key [REDACTED:secret])');
    const [row] = await rows(span.attributes['widgetdc.generation.id'] as string);
    expect(row).toMatchObject({ status: 'FAILED', error_type: 'interrupted' });
    expect(row!.error_message).toContain('quota of [REDACTED:email] exceeded (key [REDACTED:secret])');
  });
});
