// Load on one gateway URL through autocannon: the same query, token and connection count for every
// gateway, each response checked against the body the gateway answered once before the run.
import autocannon from 'autocannon';
import { createRecorder, GATEWAY_QUERY, type LoadResult } from './load.ts';

/** Options of {@link runAutocannon}. */
export interface AutocannonOptions {
  url: string;
  token: string;
  connections: number;
  warmupMs: number;
  durationMs: number;
  onTick?: (completed: number, phase: 'warmup' | 'measure') => void;
  /** Called as the measured phase starts (the bench samples the gateway's CPU then). */
  onMeasure?: () => void;
}

/** The body every request sends. */
const BODY = JSON.stringify({ query: GATEWAY_QUERY });

/** First response of `url`; refuses one with GraphQL errors, so the run checks against a good answer. */
async function expectedBody(url: string, token: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: BODY,
  });
  const text = await res.text();
  const parsed = JSON.parse(text) as { errors?: unknown[]; data?: unknown };
  if (!res.ok || parsed.errors || !parsed.data)
    throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

function once(
  options: AutocannonOptions,
  expectBody: string,
  durationMs: number,
  phase: 'warmup' | 'measure',
  record?: (ms: number) => void,
) {
  const instance = autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
    body: BODY,
    connections: options.connections,
    duration: durationMs / 1000,
    expectBody,
  });
  let completed = 0;
  instance.on('response', (_client: unknown, status: number, _bytes: number, responseTime: number) => {
    if (status !== 200) return;
    completed++;
    record?.(responseTime);
  });
  instance.on('tick', () => options.onTick?.(completed, phase));
  return instance;
}

/** Warm-up, then the measured run; latencies from each response, percentiles from node's histogram. */
export async function runAutocannon(options: AutocannonOptions): Promise<LoadResult> {
  const expectBody = await expectedBody(options.url, options.token);
  await once(options, expectBody, options.warmupMs, 'warmup');
  const recorder = createRecorder();
  options.onMeasure?.();
  const started = performance.now();
  const result = await once(options, expectBody, options.durationMs, 'measure', recorder.record);
  const seconds = (performance.now() - started) / 1000;
  const good = recorder.count();
  const errors = result.errors + result.non2xx + result.mismatches + result.timeouts;
  return {
    requests: good,
    errors,
    ...(errors > 0
      ? {
          firstError: `${result.non2xx} non-2xx, ${result.mismatches} bodies unlike the expected one, ${result.errors} socket errors, ${result.timeouts} timeouts`,
        }
      : {}),
    seconds,
    rps: good / seconds,
    p50: recorder.percentile(50),
    p95: recorder.percentile(95),
    p99: recorder.percentile(99),
    max: recorder.max(),
    histogram: `${recorder.kind} (autocannon)`,
  };
}
