// Event-bus metrics as OpenTelemetry gauges.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { registerEventBusMetrics } from '#events/admin/metrics.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { REDIS_URL, uniquePrefix } from '../support.ts';

/** A reader that collects on demand. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

describe('event-bus metrics', () => {
  it('reports length, pending, lag, oldest pending age and dead letters per stream and group', async () => {
    const transport = new RedisStreamTransport({ url: REDIS_URL, prefix: uniquePrefix() });
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    try {
      const T = 'task.created';
      await transport.ensureGroup(T, 'm');
      const beforeAppend = Date.now();
      await transport.append([1, 2, 3].map((n) => ({ stream: T, tenantId: '', body: String(n) })));
      const afterAppend = Date.now();
      const [first, second] = await transport.read('m', 'c', [T], 2, 10);
      await transport.ack('m', T, [first!.id]);
      await transport.deadLetter(second!, {
        group: 'm',
        consumer: 'c',
        error: 'x',
        attempts: 3,
        tenantId: undefined,
      });
      await transport.read('m', 'c', [T], 1, 10); // the third stays pending
      registerEventBusMetrics(provider.getMeter('test'), transport);
      // Let the pending entry age, so that its age is a real value and not a zero that any bug gives.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const beforeCollect = Date.now();
      const { resourceMetrics } = await reader.collect();
      const afterCollect = Date.now();
      const values: Record<string, number> = {};
      for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
        for (const point of metric.dataPoints) {
          if (point.attributes['widgetdc.stream'] === T && point.attributes['widgetdc.group'] === 'm') {
            values[metric.descriptor.name] = point.value as number;
          }
        }
      }
      expect(values).toMatchObject({
        'widgetdc.events.stream.length': 3,
        'widgetdc.events.stream.pending': 1,
        'widgetdc.events.stream.lag': 0,
        'widgetdc.events.stream.dead_letters': 1,
      });
      // The age of the third entry (appended between beforeAppend and afterAppend), as of the collection;
      // Redis ids carry milliseconds, hence the 1 ms either side.
      const age = values['widgetdc.events.stream.oldest_pending_age']!;
      expect(age).toBeGreaterThanOrEqual(beforeCollect - afterAppend - 1);
      expect(age).toBeLessThanOrEqual(afterCollect - beforeAppend + 1);
      await transport.destroy([T]);
    } finally {
      await provider.shutdown();
      await transport.close();
    }
  });
});
