// The consumer's span continues the producer's trace: the outbox envelope carries W3C trace context.
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { extractTraceContext, injectTraceContext } from '#kernel/telemetry/trace-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { appOrm, eventually, makeTransport, tenantSource, testWorkerIdentity } from './support.ts';

let db: TestDatabase;
let orm: MikroORM;
let telemetry: Telemetry;
let issuer: TestIssuer;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  telemetry = startTelemetry({
    serviceName: 'test',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    instrumentations: [],
  });
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

  // One event on its own, and three handled in one batch: each gets its own span and audit trace.
  it.each([
    [1, 1],
    [8, 3],
  ])(
    'makes each consumer span a child of its publishing span (maxBatch %i, %i events)',
    async (maxBatch, events) => {
      const source = await tenantSource(orm, 'traced');
      const group = `traced-${maxBatch}`;
      const transport = makeTransport('postgres', db);
      const relay = new OutboxRelay({ url: db.appUrl, transport, pollMs: 50 });
      const worker = new EventWorker({
        orm,
        transport,
        consumerName: 'w',
        concurrency: 8,
        blockMs: 100,
        actorFor: testWorkerIdentity(issuer).actorFor,
        consumer: defineConsumer({ group, events: [SampleUploaded], maxBatch, async handle() {} }),
      });
      const processSpans = () =>
        exporter
          .getFinishedSpans()
          .filter(
            (s) =>
              s.name === `process ${SampleUploaded.type}` &&
              s.attributes['messaging.consumer.group.name'] === group,
          );
      try {
        relay.start();
        const producers = [];
        for (let i = 0; i < events; i++) {
          producers.push(
            await trace.getTracer('t').startActiveSpan('createTask', async (span) => {
              const taskId = randomUUID();
              const event = await withTenant(orm, source.tenantId, (em) =>
                publish(em, SampleUploaded, {
                  ...source,
                  aggregate: { type: 'Task', id: taskId },
                  payload: { documentId: taskId, title: 'traced', mimeType: 'text/plain' },
                }),
              );
              span.end();
              return { event, span: span.spanContext() };
            }),
          );
        }
        // started after the events are in the stream, so that they are read (and batched) together
        await eventually(async () => {
          const rows = await db.asSuperuser<{ n: string }>('select count(*) as n from platform.outbox');
          return Number(rows[0]!.n) === 0;
        }, 'the events relayed');
        await worker.start();
        await eventually(async () => processSpans().length === events, 'consumer spans ended');
        for (const { event, span: producer } of producers) {
          const consumed = processSpans().find((s) => s.attributes['messaging.message.id'] === event.id)!;
          expect(consumed.spanContext().traceId).toBe(producer.traceId);
          expect(consumed.parentSpanContext?.spanId).toBe(producer.spanId);
          expect(consumed.links.map((l) => l.context.spanId)).toEqual([producer.spanId]);
          expect(consumed.attributes).toMatchObject({
            'messaging.consumer.group.name': group,
            'widgetdc.event.attempt': 1,
            'widgetdc.event.outcome': 'handled',
            'widgetdc.event.batch_size': events,
          });
        }
        // the audit record of each effect carries its own event's trace
        const audited = await withTenant(orm, source.tenantId, (em) =>
          em.execute<{ event_id: string; trace_id: string }[]>(
            "select input_summary->>'eventId' as event_id, trace_id from audit.audit_events where action = ?",
            [`${group}.${SampleUploaded.type}`],
          ),
        );
        expect(new Map(audited.map((a) => [a.event_id, a.trace_id]))).toEqual(
          new Map(producers.map((p) => [p.event.id, p.span.traceId])),
        );
      } finally {
        await worker.close();
        await relay.close();
        await transport.destroy([SampleUploaded.type]);
        await transport.close();
      }
    },
  );
});
