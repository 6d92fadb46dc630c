import { performance } from 'node:perf_hooks';
import { type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_STAGE_MS } from '#kernel/telemetry/attributes.ts';

const tracer = trace.getTracer('widgetdc.knowledge');

/** Time spent in one stage of a search or an answer. */
export interface StageTiming {
  readonly stage: string;
  readonly ms: number;
}

/**
 * Runs the stages of one search or answer, each in its own OpenTelemetry span
 * (`knowledge.<stage>`), and keeps their durations: the timings an answer reports are the spans'.
 */
export class StageClock {
  readonly timings: StageTiming[] = [];

  /** Runs `work` as `stage`. */
  run<T>(stage: string, work: (span: Span) => Promise<T> | T): Promise<T> {
    return tracer.startActiveSpan(`knowledge.${stage}`, async (span) => {
      const started = performance.now();
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        const ms = performance.now() - started;
        span.setAttribute(ATTR_STAGE_MS, ms);
        span.end();
        this.timings.push({ stage, ms });
      }
    });
  }

  /** Milliseconds spent in `stage` (0 when it did not run). */
  ms(stage: string): number {
    return this.timings.filter((t) => t.stage === stage).reduce((sum, t) => sum + t.ms, 0);
  }
}

/** Runs `work` in a root span `name`; hands it the span's trace id (null when tracing is off). */
export function traced<T>(
  name: string,
  work: (traceId: string | null, span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, async (span) => {
    try {
      const { traceId, traceFlags } = span.spanContext();
      const valid = trace.isSpanContextValid(span.spanContext()) && traceFlags !== undefined;
      return await work(valid ? traceId : null, span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
