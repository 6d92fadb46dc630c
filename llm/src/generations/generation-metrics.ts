// Usage as OpenTelemetry metrics, by the GenAI semantic conventions: `gen_ai.client.token.usage`
// (histogram of tokens per call, by `gen_ai.token.type`) and `gen_ai.client.operation.duration`
// (seconds), plus a cost counter of our own. Recorded through the global meter provider, so they go
// wherever the process's SDK sends metrics (OTLP when configured; nowhere otherwise).
import {
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GENERATION_PURPOSE,
  ATTR_TENANT_ID,
} from '#kernel/telemetry/attributes.ts';
import type { GenerationRecord } from './record.ts';

/** The token usage histogram (GenAI semantic conventions). */
export const METRIC_TOKEN_USAGE = 'gen_ai.client.token.usage';
/** The operation duration histogram (GenAI semantic conventions), in seconds. */
export const METRIC_OPERATION_DURATION = 'gen_ai.client.operation.duration';
/** Estimated cost of model calls, in USD (ours: the conventions define none). */
export const METRIC_COST = 'widgetdc.gen_ai.client.cost';

/** Bucket boundaries the conventions recommend for token usage. */
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** Bucket boundaries the conventions recommend for the operation duration. */
const DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

interface Instruments {
  tokens: Histogram;
  duration: Histogram;
  cost: Counter;
}

const byProvider = new WeakMap<MeterProvider, Instruments>();

/** Instruments of the current global provider (a test or a restarted SDK may replace it). */
function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  let found = byProvider.get(provider);
  if (!found) {
    const meter = provider.getMeter('widgetdc.llm');
    found = {
      tokens: meter.createHistogram(METRIC_TOKEN_USAGE, {
        unit: '{token}',
        description: 'Number of input and output tokens used',
        advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
      }),
      duration: meter.createHistogram(METRIC_OPERATION_DURATION, {
        unit: 's',
        description: 'GenAI operation duration',
        advice: { explicitBucketBoundaries: DURATION_BUCKETS },
      }),
      cost: meter.createCounter(METRIC_COST, { unit: 'USD', description: 'Estimated cost of model calls' }),
    };
    byProvider.set(provider, found);
  }
  return found;
}

/** Records one finished call's tokens, duration and cost. */
export function recordGenerationMetrics(record: GenerationRecord): void {
  const m = instruments();
  const base: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: record.operation,
    [ATTR_GEN_AI_PROVIDER_NAME]: record.provider,
    [ATTR_GEN_AI_REQUEST_MODEL]: record.model,
    ...(record.responseModel ? { [ATTR_GEN_AI_RESPONSE_MODEL]: record.responseModel } : {}),
    [ATTR_GENERATION_PURPOSE]: record.purpose,
    [ATTR_TENANT_ID]: record.tenantId,
  };
  m.duration.record(record.latencyMs / 1000, {
    ...base,
    ...(record.status === 'FAILED' ? { [ATTR_ERROR_TYPE]: record.errorType ?? 'other' } : {}),
  });
  if (record.status === 'SUCCEEDED') {
    m.tokens.record(record.inputTokens, { ...base, [ATTR_GEN_AI_TOKEN_TYPE]: 'input' });
    if (record.operation === 'chat') {
      m.tokens.record(record.outputTokens, { ...base, [ATTR_GEN_AI_TOKEN_TYPE]: 'output' });
    }
  }
  if (record.costUsd > 0) m.cost.add(record.costUsd, base);
}
