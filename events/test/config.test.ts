// The event bus's settings (REDIS_URL, EVENTS_*), read by events/src/config.ts.
import { loadEventsConfig } from '#events/config.ts';
import { DEFAULT_STREAM_PREFIX } from '#events/defaults.ts';
import { loadConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';

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
