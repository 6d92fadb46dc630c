// Every process's OpenTelemetry: @opentelemetry/sdk-node, configured by the standard OTEL_*
// variables (exporter, endpoint, headers, sampler, resource attributes, OTEL_SDK_DISABLED), with the
// instrumentations a Node operator expects. Entry points load it through `--import` of
// `register.ts`, before any instrumented module; tests call `startTelemetry` with their own processors.
import { fileURLToPath } from 'node:url';
import {
  context,
  type MeterProvider,
  metrics,
  propagation,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { type MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { langfuseSettings, langfuseSpanProcessor, TraceIdentityPropagator } from './langfuse.ts';

/** The module a process is started with (`node --import <it> <entry>`) to be traced. */
export const TELEMETRY_REGISTER_MODULE = fileURLToPath(new URL('./register.ts', import.meta.url));

/** The modules the instrumentations patch; the ESM loader hook wraps only these. */
export const INSTRUMENTED_MODULES = ['pg', 'ioredis', 'graphql'] as const;

/** Health and readiness probes are not traced (a probe every few seconds would drown the traces). */
const UNTRACED_PATHS = new Set(['/health', '/ready']);

/** Options of {@link startTelemetry}. */
export interface StartTelemetryOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` sets one. */
  serviceName: string;
  /** Processors besides the OTLP exporter (the span store; tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
  /**
   * Metric readers besides the OTLP one (tests: an in-memory reader). With none at all the global
   * meter stays a no-op: the GenAI usage metrics (ADR 0037) cost nothing until someone reads them.
   */
  metricReaders?: MetricReader[];
  /** Instrumentations; {@link defaultInstrumentations} when absent. */
  instrumentations?: Instrumentation[];
  env?: Readonly<Record<string, string | undefined>>;
}

/** The started SDK. */
export interface Telemetry {
  /** False under `OTEL_SDK_DISABLED=true`: nothing is traced. */
  readonly enabled: boolean;
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProvider;
  /**
   * Hands every ended span to its processors' exporters and waits for them (the resource's host and
   * process attributes are detected asynchronously, so even a simple processor exports a tick later).
   */
  flush(): Promise<void>;
  /** Flushes and stops every processor and reader (idempotent). */
  shutdown(): Promise<void>;
}

/** HTTP (in and out, node:http and undici/fetch), PostgreSQL, ioredis and GraphQL. */
export function defaultInstrumentations(): Instrumentation[] {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
    }),
    new UndiciInstrumentation({
      ignoreRequestHook: (req) => UNTRACED_PATHS.has(req.path.split('?')[0] ?? ''),
    }),
    // requireParentSpan: connection-pool chatter outside any operation (relay polling) is not a trace.
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({ requireParentSpan: true }),
    // Parse, validate and execute, no span per resolver: a page of 20 tasks with their approvals made
    // dozens of resolver spans per request and doubled its latency (bench:tracing); the SQL and HTTP
    // spans under `execute` already show where a resolver spends its time.
    new GraphQLInstrumentation({ ignoreResolveSpans: true }),
  ];
}

/** Whether the standard variables ask for OTLP export (an endpoint, or an explicit exporter list). */
export function otlpConfigured(env: Readonly<Record<string, string | undefined>>): {
  traces: boolean;
  metrics: boolean;
} {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const endpoint = set('OTEL_EXPORTER_OTLP_ENDPOINT');
  const list = (name: string) =>
    (env[name] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const traces = list('OTEL_TRACES_EXPORTER');
  const metricsList = list('OTEL_METRICS_EXPORTER');
  return {
    traces:
      traces.length > 0 ? traces.includes('otlp') : endpoint || set('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'),
    metrics:
      metricsList.length > 0
        ? metricsList.includes('otlp')
        : endpoint || set('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'),
  };
}

let current: Telemetry | undefined;

/**
 * Starts `@opentelemetry/sdk-node` once per process (W3C trace context, async-hooks context
 * manager, sampler and resource from `OTEL_*`). Spans go to the given processors and, when an OTLP
 * endpoint is configured, to it as well; metrics only to OTLP. A second call returns the first SDK.
 */
export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  if (current) return current;
  const env = options.env ?? process.env;
  const otlp = otlpConfigured(env);
  const spanProcessors = [...(options.spanProcessors ?? [])];
  // The exporters read OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION}.
  if (otlp.traces) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
  // Langfuse (LANGFUSE_PUBLIC_KEY / _SECRET_KEY / _BASE_URL) gets every span too, mapped for its views.
  const langfuse = langfuseSettings(env);
  if (langfuse) spanProcessors.push(langfuseSpanProcessor(langfuse));
  // First, so every processor sees a span's inherited user and session.
  spanProcessors.unshift(new TraceIdentityPropagator());
  const sdk = new NodeSDK({
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    spanProcessors,
    metricReaders: [
      ...(options.metricReaders ?? []),
      ...(otlp.metrics ? [new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter() })] : []),
    ],
    // Logs go to the process's own logger, not to OpenTelemetry.
    logRecordProcessors: [],
    instrumentations: options.instrumentations ?? defaultInstrumentations(),
  });
  sdk.start();
  const enabled = !['true', '1'].includes((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase());
  let stopped: Promise<void> | undefined;
  const telemetry: Telemetry = {
    enabled,
    tracerProvider: trace.getTracerProvider(),
    meterProvider: metrics.getMeterProvider(),
    async flush() {
      const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
      const delegate = (provider.getDelegate?.() ?? provider) as { forceFlush?: () => Promise<void> };
      await delegate.forceFlush?.();
    },
    shutdown() {
      stopped ??= sdk
        .shutdown()
        .catch(() => {})
        .then(() => {
          // So that a later start (the next test of a file) can register its providers.
          for (const api of [trace, metrics, propagation, context]) api.disable();
          if (current === telemetry) current = undefined;
        });
      return stopped;
    },
  };
  current = telemetry;
  return telemetry;
}

/** Flushes and stops the process's SDK, if one was started (called by `onShutdown`). */
export async function shutdownTelemetry(): Promise<void> {
  await current?.shutdown();
}
