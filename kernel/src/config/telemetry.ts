import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from '../logger.ts';
import { httpUrl, oneOf } from './env.ts';
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
