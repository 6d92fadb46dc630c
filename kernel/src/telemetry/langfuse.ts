// Langfuse over its OpenTelemetry endpoint: with LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY (and
// LANGFUSE_BASE_URL, Langfuse Cloud by default) every span also goes, with the real OTLP/HTTP exporter
// (protobuf, or JSON with LANGFUSE_OTLP_PROTOCOL=http/json), to `<base>/api/public/otel/v1/traces`
// with Basic authentication. The spans carry the GenAI conventions already; what Langfuse's own views
// need besides (user, session, observation type, model, usage) is added to the exported copies only,
// so the span store and other OTLP backends keep the standard attributes.
import type { Context } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../errors.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_SESSION_ID,
  ATTR_USER_ID,
} from './attributes.ts';

/** Langfuse Cloud (EU), when `LANGFUSE_BASE_URL` is not set. */
export const LANGFUSE_CLOUD = 'https://cloud.langfuse.com';
/** Langfuse's OTLP/HTTP traces path under its base URL. */
export const LANGFUSE_OTLP_PATH = '/api/public/otel/v1/traces';

/** Where and how spans go to Langfuse. */
export interface LangfuseSettings {
  readonly baseUrl: string;
  readonly publicKey: string;
  readonly secretKey: string;
  readonly protocol: 'http/protobuf' | 'http/json';
}

/** Reads the `LANGFUSE_*` variables: undefined without keys; a ConfigError naming what is wrong. */
export function langfuseSettings(
  env: Readonly<Record<string, string | undefined>>,
): LangfuseSettings | undefined {
  const read = (name: string) => (env[name] ?? '').trim() || undefined;
  const publicKey = read('LANGFUSE_PUBLIC_KEY');
  const secretKey = read('LANGFUSE_SECRET_KEY');
  const baseUrl = read('LANGFUSE_BASE_URL') ?? LANGFUSE_CLOUD;
  const protocol = read('LANGFUSE_OTLP_PROTOCOL') ?? 'http/protobuf';
  if (!publicKey && !secretKey) return undefined;
  const problems: string[] = [];
  if (!publicKey) problems.push('LANGFUSE_PUBLIC_KEY must be set with LANGFUSE_SECRET_KEY (pk-lf-…)');
  if (!secretKey) problems.push('LANGFUSE_SECRET_KEY must be set with LANGFUSE_PUBLIC_KEY (sk-lf-…)');
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol))
    problems.push(`LANGFUSE_BASE_URL must be an http:// or https:// URL (got "${baseUrl}")`);
  if (protocol !== 'http/protobuf' && protocol !== 'http/json')
    problems.push(`LANGFUSE_OTLP_PROTOCOL must be http/protobuf or http/json (got "${protocol}")`);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    publicKey: publicKey!,
    secretKey: secretKey!,
    protocol: protocol as LangfuseSettings['protocol'],
  };
}

/** The processor that exports every span to Langfuse (batched). */
export function langfuseSpanProcessor(settings: LangfuseSettings): SpanProcessor {
  const options = {
    url: `${settings.baseUrl}${LANGFUSE_OTLP_PATH}`,
    headers: {
      authorization: `Basic ${Buffer.from(`${settings.publicKey}:${settings.secretKey}`).toString('base64')}`,
    },
  };
  const exporter =
    settings.protocol === 'http/json'
      ? new OTLPJsonTraceExporter(options)
      : new OTLPProtoTraceExporter(options);
  return new BatchSpanProcessor(new LangfuseMappingExporter(exporter));
}

/** Langfuse's observation type of a GenAI span (`gen_ai.operation.name`). */
const OBSERVATION_TYPES: Record<string, string> = {
  chat: 'generation',
  text_completion: 'generation',
  generate_content: 'generation',
  embeddings: 'embedding',
  execute_tool: 'tool',
};

/** Langfuse's attributes for one span, from the standard ones it carries. */
export function langfuseAttributes(attributes: ReadableSpan['attributes']): Record<string, string> {
  const out: Record<string, string> = {};
  const user = attributes[ATTR_USER_ID];
  const session = attributes[ATTR_SESSION_ID];
  if (typeof user === 'string') out['langfuse.user.id'] = user;
  if (typeof session === 'string') out['langfuse.session.id'] = session;
  const operation = attributes[ATTR_GEN_AI_OPERATION_NAME];
  if (typeof operation === 'string') {
    out['langfuse.observation.type'] = OBSERVATION_TYPES[operation] ?? 'span';
    const model = attributes[ATTR_GEN_AI_RESPONSE_MODEL] ?? attributes[ATTR_GEN_AI_REQUEST_MODEL];
    if (typeof model === 'string') out['langfuse.observation.model.name'] = model;
    const input = attributes[ATTR_GEN_AI_USAGE_INPUT_TOKENS];
    const output = attributes[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS];
    if (typeof input === 'number' || typeof output === 'number') {
      const usage: Record<string, number> = {};
      if (typeof input === 'number') usage.input = input;
      if (typeof output === 'number') usage.output = output;
      usage.total = (usage.input ?? 0) + (usage.output ?? 0);
      out['langfuse.observation.usage_details'] = JSON.stringify(usage);
    }
  }
  return out;
}

/** Hands the exporter copies of the spans with Langfuse's attributes added. */
class LangfuseMappingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  constructor(inner: SpanExporter) {
    this.#inner = inner;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const mapped = spans.map((span) => {
      const extra = langfuseAttributes(span.attributes);
      if (Object.keys(extra).length === 0) return span;
      // The span's own methods (spanContext, …) through its prototype; only the attributes differ.
      return Object.create(span, {
        attributes: { value: { ...span.attributes, ...extra }, enumerable: true },
      }) as ReadableSpan;
    });
    this.#inner.export(mapped, done);
  }
  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

/**
 * Gives every span the user and session (task) of its parent when it has none of its own, so a
 * model call deep in a request names whom it ran for, as Langfuse's per-user and per-session views
 * (and anyone reading the trace) need. Within a process only: each service sets them on its own
 * request span from the verified caller.
 */
export class TraceIdentityPropagator implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const parent = trace.getSpan(parentContext) as Partial<ReadableSpan> | undefined;
    const inherited = parent?.attributes;
    if (!inherited) return;
    for (const name of [ATTR_USER_ID, ATTR_SESSION_ID]) {
      const value = inherited[name];
      if (typeof value === 'string' && span.attributes[name] === undefined) span.setAttribute(name, value);
    }
  }
  onEnd(): void {}
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
