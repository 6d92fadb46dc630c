// Answer.traceId opens the answer's trace (trace(id), ADR 0024) only when that trace is recorded: a
// sampler that drops it leaves nothing stored or exported under the id, so the answer names none.

import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { Identity } from '#kernel/auth/identity.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { useIngestSuite } from '../support.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
const sampler = process.env.OTEL_TRACES_SAMPLER;
beforeAll(() => {
  // The SDK reads its sampler from the environment, as in production.
  process.env.OTEL_TRACES_SAMPLER = 'always_off';
  telemetry = startTelemetry({
    serviceName: 'test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    instrumentations: [],
  });
});
afterAll(async () => {
  await telemetry?.shutdown();
  if (sampler === undefined) delete process.env.OTEL_TRACES_SAMPLER;
  else process.env.OTEL_TRACES_SAMPLER = sampler;
});

const suite = useIngestSuite();
let alice: Identity;
beforeAll(async () => {
  alice = await suite.identity('acme', 'alice', ['Reader', 'Contributor']);
  const id = await suite.ingest(alice, {
    title: 'Notes',
    text: 'The server listens on TCP port 5432 by default.',
  });
  expect((await suite.finished(alice, id)).status).toBe('READY');
}, 120_000);

describe('Answer.traceId', () => {
  it('is null when the sampler drops the trace (no span of it is recorded)', async () => {
    const result = await suite.knowledge.execute(
      alice,
      'query { ask(question: "What port does the server listen on?") { traceId citations { quote } } }',
    );
    expect(result.errors).toBeUndefined();
    const answer = result.data!.ask as { traceId: string | null; citations: unknown[] };
    expect(answer.citations.length).toBeGreaterThan(0);
    await telemetry.flush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(answer.traceId).toBeNull();
  });
});
