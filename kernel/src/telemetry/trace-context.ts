import { type Context, context, ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

const propagator = new W3CTraceContextPropagator();

/** W3C trace-context headers as carried in an event envelope. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The W3C `traceparent`/`tracestate` of `ctx` (the active context by default); empty if no span. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, {
    set: (c, key, value) => {
      c[key] = value;
    },
  });
  return {
    ...(carrier.traceparent ? { traceparent: carrier.traceparent } : {}),
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** A context whose remote parent is the span described by `carrier` (the root context if none). */
export function extractTraceContext(carrier: TraceCarrier, base: Context = ROOT_CONTEXT): Context {
  return propagator.extract(base, carrier, {
    get: (c, key) => (key === 'traceparent' || key === 'tracestate' ? c[key] : undefined),
    keys: (c) => Object.keys(c),
  });
}
