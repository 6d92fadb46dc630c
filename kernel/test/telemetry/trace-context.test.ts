// The consumer's span continues the producer's trace: the outbox envelope carries W3C trace context.
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { withTenant } from '../../src/db/tenant-context.ts';
import { defineConsumer } from '../../src/events/consumer.ts';
import { publish } from '../../src/events/outbox.ts';
import { OutboxRelay } from '../../src/events/relay.ts';
import { EventWorker } from '../../src/events/worker.ts';
import { setupTelemetry, type Telemetry } from '../../src/telemetry/setup.ts';
import { extractTraceContext, injectTraceContext } from '../../src/telemetry/trace-context.ts';
import { createTestDatabase, type TestDatabase } from '../../src/testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '../../src/testing/test-identity.ts';
import { appOrm, eventually, makeTransport, tenantSource, testWorkerIdentity } from '../events/support.ts';

let db: TestDatabase;
let orm: MikroORM;
let telemetry: Telemetry;
let issuer: TestIssuer;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  telemetry = setupTelemetry({ serviceName: 'test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
  db = await createTestDatabase();
  orm = await appOrm(db);
  issuer = await startTestIssuer();
});
afterAll(async () => {
  await issuer?.close();
  await orm?.close();
  await db?.close();
  await telemetry?.shutdown();
});

describe('trace context', () => {
  it('round-trips a span context through traceparent', () => {
    const span = trace.getTracer('t').startSpan('producer');
    const carrier = injectTraceContext(trace.setSpan(extractTraceContext({}), span));
    expect(carrier.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    expect(trace.getSpanContext(extractTraceContext(carrier))?.spanId).toBe(span.spanContext().spanId);
    span.end();
  });

  it("makes the consumer's span a child of the publishing span", async () => {
    const source = await tenantSource(orm, 'traced');
    const transport = makeTransport('postgres', db);
    const relay = new OutboxRelay({ url: db.appUrl, transport, pollMs: 50 });
    let handled = false;
    const worker = new EventWorker({
      orm,
      transport,
      consumerName: 'w',
      concurrency: 1,
      blockMs: 100,
      actorFor: testWorkerIdentity(issuer).actorFor,
      consumer: defineConsumer({
        group: 'traced',
        topics: ['task.created'],
        async handle() {
          handled = true;
        },
      }),
    });
    try {
      relay.start();
      await worker.start();
      const producer = await trace.getTracer('t').startActiveSpan('createTask', async (span) => {
        const taskId = randomUUID();
        await withTenant(orm, source.tenantId, (em) =>
          publish(em, {
            ...source,
            type: 'task.created',
            aggregate: { type: 'Task', id: taskId },
            payload: { taskId, title: 'traced' },
          }),
        );
        span.end();
        return span.spanContext();
      });
      await eventually(async () => handled, 'handled');
      await eventually(
        async () => exporter.getFinishedSpans().some((s) => s.name === 'process task.created'),
        'consumer span ended',
      );
      const consumed = exporter.getFinishedSpans().find((s) => s.name === 'process task.created')!;
      expect(consumed.spanContext().traceId).toBe(producer.traceId);
      expect(consumed.parentSpanContext?.spanId).toBe(producer.spanId);
      expect(consumed.links.map((l) => l.context.spanId)).toEqual([producer.spanId]);
      expect(consumed.attributes).toMatchObject({
        'messaging.consumer.group.name': 'traced',
        'widgetdc.event.attempt': 1,
      });
    } finally {
      await worker.close();
      await relay.close();
      await transport.destroy(['task.created']);
      await transport.close();
    }
  });
});
