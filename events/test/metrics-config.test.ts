// Event-bus metrics as OpenTelemetry gauges, and the event-bus settings of loadConfig.
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { registerEventBusMetrics } from '#events/admin/metrics.ts';
import { loadEventsConfig } from '#events/config.ts';
import { DEFAULT_STREAM_PREFIX } from '#events/defaults.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { loadConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';
import { REDIS_URL, uniquePrefix } from './support.ts';

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
      await transport.append([1, 2, 3].map((n) => ({ stream: T, tenantId: '', body: String(n) })));
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
      const { resourceMetrics } = await reader.collect();
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
      expect(values['widgetdc.events.stream.oldest_pending_age']).toBeGreaterThanOrEqual(0);
      await transport.destroy([T]);
    } finally {
      await provider.shutdown();
      await transport.close();
    }
  });
});

describe('event-bus configuration', () => {
  it('defaults to the embedded transport and the documented settings', () => {
    const { otlpEndpoint } = loadConfig({});
    expect(loadEventsConfig({})).toMatchObject({
      redisUrl: undefined,
      streamPrefix: DEFAULT_STREAM_PREFIX,
      claimIdleMs: 30_000,
    });
    expect(otlpEndpoint).toBeUndefined();
  });

  it('reports every bad event-bus setting precisely', () => {
    const env = {
      REDIS_URL: 'http://localhost:6379',
      EVENTS_STREAM_PREFIX: 'bad prefix!',
      EVENTS_CLAIM_IDLE_MS: '5',
      EVENTS_RELAY_BATCH: 'many',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector',
    };
    const problems = (load: () => unknown) => {
      try {
        load();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      throw new Error('expected a ConfigError');
    };
    expect(problems(() => loadEventsConfig(env))).toEqual([
      'REDIS_URL must be a redis:// or rediss:// URL',
      'EVENTS_STREAM_PREFIX must be 1-100 letters, digits, ":", "_", "." or "-"',
      'EVENTS_CLAIM_IDLE_MS must be a whole number from 100 to 86400000 (got "5")',
      'EVENTS_RELAY_BATCH must be a whole number from 1 to 10000 (got "many")',
    ]);
    expect(problems(() => loadConfig(env))).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL',
    ]);
  });

  it('accepts a rediss:// URL', () => {
    expect(loadEventsConfig({ REDIS_URL: 'rediss://cache.example:6380' }).redisUrl).toBe(
      'rediss://cache.example:6380',
    );
  });
});
