import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { setupTelemetry, type Telemetry } from '#kernel/telemetry/setup.ts';
import { ChatClient } from '#llm/chat-client.ts';
import { type FakeChatServer, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
let fake: FakeChatServer;
beforeAll(async () => {
  telemetry = setupTelemetry({ serviceName: 'test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  fake = await startFakeChatServer();
});
afterAll(async () => {
  await fake?.close();
  await telemetry?.shutdown();
});

const chat = () =>
  new ChatClient({
    url: `${fake.baseUrl}/chat/completions`,
    model: 'azure:gpt4o-prod',
    provider: 'azure.ai.openai',
    auth: { kind: 'api-key', apiKey: 'k' },
    timeoutMs: 5000,
    maxRetries: 1,
    wait: async () => {},
  });

describe('a span per model call (OpenTelemetry GenAI conventions)', () => {
  it('names the call and records model, usage, finish reason, attempts and time to first token', async () => {
    exporter.reset();
    fake.enqueue(
      reply.status(503),
      reply.answer({
        pieces: ['a', 'b'],
        usage: { prompt_tokens: 40, completion_tokens: 2 },
        model: 'gpt-4o-2024-11-20',
      }),
    );
    await chat().chat(
      { messages: [{ role: 'user', content: 'q' }], maxTokens: 64, temperature: 0 },
      { onToken: () => {} },
    );
    const [span] = exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat '));
    expect(span!.name).toBe('chat gpt4o-prod');
    expect(span!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'azure.ai.openai',
      'gen_ai.request.model': 'gpt4o-prod',
      'gen_ai.request.max_tokens': 64,
      'gen_ai.request.temperature': 0,
      'gen_ai.response.model': 'gpt-4o-2024-11-20',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 40,
      'gen_ai.usage.output_tokens': 2,
      'widgetdc.llm.attempts': 2,
    });
    expect(span!.attributes['widgetdc.llm.time_to_first_token_ms']).toEqual(expect.any(Number));
  });

  it('marks a failed call with its error kind', async () => {
    exporter.reset();
    fake.enqueue(reply.status(401));
    await expect(chat().chat({ messages: [{ role: 'user', content: 'q' }] })).rejects.toMatchObject({
      kind: 'unauthorized',
    });
    const [span] = exporter.getFinishedSpans().filter((s) => s.name.startsWith('chat '));
    expect(span!.attributes).toMatchObject({ 'error.type': 'unauthorized', 'widgetdc.llm.attempts': 1 });
    expect(span!.status.code).toBe(2); // SpanStatusCode.ERROR
    expect(span!.attributes['gen_ai.usage.input_tokens']).toBeUndefined();
  });
});
