import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import { httpUrl, oneOf, postgresUrl } from './env.ts';
import type { NodeEnv } from './runtime.ts';

/** How a process logs and where its traces and metrics go. */
export interface TelemetryConfig {
  log: { level: LogLevel; format: 'pretty' | 'json' };
  /** OTLP/HTTP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT`); absent: telemetry stays in-process. */
  otlpEndpoint: string | undefined;
}

/** `LOG_LEVEL`, `LOG_FORMAT` (JSON in production), `OTEL_EXPORTER_OTLP_ENDPOINT`. */
export const telemetrySchema = (nodeEnv: NodeEnv) =>
  z
    .object({
      LOG_LEVEL: oneOf(LOG_LEVELS, 'info'),
      LOG_FORMAT: oneOf(['pretty', 'json'], nodeEnv === 'production' ? 'json' : 'pretty'),
      OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl(),
    })
    .transform(
      (env): TelemetryConfig => ({
        log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT },
        otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      }),
    );

/** How long stored spans are kept by default (`TRACE_RETENTION`). */
export const DEFAULT_TRACE_RETENTION_MS = 7 * 86_400_000;

const durationUnitMs: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** Where a process keeps its spans for the embedded flame graph. */
export interface TraceStoreConfig {
  /** PostgreSQL as `widgetdc_app` (`DATABASE_URL`); absent: spans are not stored. */
  databaseUrl: string | undefined;
  /** How long spans are kept (`TRACE_RETENTION`); 0: not stored at all. */
  retentionMs: number;
}

/** `TRACE_RETENTION` (`7d`, `24h`, `90m`, `0` for none) and `DATABASE_URL`. */
export const traceStoreSchema = z
  .object({
    TRACE_RETENTION: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const value = raw?.trim() ?? '';
        if (value === '') return DEFAULT_TRACE_RETENTION_MS;
        if (value === '0') return 0;
        const match = /^(\d+)(s|m|h|d)$/.exec(value);
        if (!match || Number(match[1]) === 0) {
          ctx.addIssue({
            code: 'custom',
            message: `TRACE_RETENTION must be a duration such as 7d, 24h or 90m, or 0 to store no spans (got "${value}")`,
          });
          return z.NEVER;
        }
        return Number(match[1]) * durationUnitMs[match[2]!]!;
      }),
    DATABASE_URL: postgresUrl(),
  })
  .transform(
    (env): TraceStoreConfig => ({
      databaseUrl: env.DATABASE_URL,
      retentionMs: env.TRACE_RETENTION,
    }),
  );

/** How long generation records are kept by default (`GENERATION_RETENTION`; ADR 0037). */
export const DEFAULT_GENERATION_RETENTION_MS = 30 * 86_400_000;

/**
 * `GENERATION_RETENTION` (`30d`, `24h`, `90m`): how long observability.generations keeps each model
 * call before the audit service sweeps it. The monthly counters budgets read (token_usage) stay.
 */
export const generationRetentionSchema = z
  .object({
    GENERATION_RETENTION: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        const value = raw?.trim() ?? '';
        if (value === '') return DEFAULT_GENERATION_RETENTION_MS;
        const match = /^(\d+)(s|m|h|d)$/.exec(value);
        if (!match || Number(match[1]) === 0) {
          ctx.addIssue({
            code: 'custom',
            message: `GENERATION_RETENTION must be a duration such as 30d, 24h or 90m (got "${value}")`,
          });
          return z.NEVER;
        }
        return Number(match[1]) * durationUnitMs[match[2]!]!;
      }),
  })
  .transform((env) => ({ retentionMs: env.GENERATION_RETENTION }));
