// Writes generation records (observability.generations) in the caller's tenant transaction: each
// insert and the month's usage counter (observability.token_usage) are one statement, so the
// counters budgets read are exactly the sum of the committed generations.
import type { EntityManager } from '@mikro-orm/postgresql';
import { fitText, hasUnstorable, safeText } from '#kernel/audit/redact.ts';
import type { GenerationRecord } from './record.ts';

const MAX_OUTPUT_CHARS = 100_000;
const MAX_ERROR_CHARS = 2000;

const COLUMNS = [
  'id',
  'tenant_id',
  'created_at',
  'trace_id',
  'span_id',
  'operation',
  'purpose',
  'actor_kind',
  'user_id',
  'user_name',
  'task_id',
  'provider',
  'model',
  'response_model',
  'prompt_name',
  'prompt_version',
  'prompt_variables',
  'prompt_messages',
  'input',
  'output',
  'input_tokens',
  'output_tokens',
  'total_tokens',
  'cost_usd',
  'latency_ms',
  'ttft_ms',
  'status',
  'error_type',
  'error_message',
  'replay_of',
] as const;

const JSON_COLUMNS = new Set(['prompt_variables', 'input']);

const INSERT = `
  with g as (
    insert into observability.generations (${COLUMNS.join(', ')})
    values (${COLUMNS.map((c) => (JSON_COLUMNS.has(c) ? '?::jsonb' : '?')).join(', ')})
    returning tenant_id, user_id, created_at, total_tokens, cost_usd
  )
  insert into observability.token_usage as u (tenant_id, user_id, month, tokens, cost_usd, calls)
  select tenant_id, coalesce(user_id, ''), date_trunc('month', created_at at time zone 'UTC')::date,
         total_tokens, cost_usd, 1
    from g
  on conflict (tenant_id, month, user_id) do update
    set tokens = u.tokens + excluded.tokens, cost_usd = u.cost_usd + excluded.cost_usd, calls = u.calls + 1`;

/** Appends `record` and adds it to its month's usage, in `em`'s transaction (tenant set: RLS checks it). */
export async function insertGeneration(em: EntityManager, record: GenerationRecord): Promise<void> {
  const values: Record<(typeof COLUMNS)[number], unknown> = {
    id: record.id,
    tenant_id: record.tenantId,
    created_at: record.createdAt.toISOString(),
    trace_id: record.traceId && !/^0+$/.test(record.traceId) ? record.traceId : null,
    span_id: record.spanId && !/^0+$/.test(record.spanId) ? record.spanId : null,
    operation: record.operation,
    purpose: cut(record.purpose, 100),
    actor_kind: record.actorKind,
    user_id: record.userId == null ? null : cut(record.userId, 200),
    user_name: record.userName == null ? null : cut(record.userName, 300),
    task_id: record.taskId,
    provider: cut(record.provider, 100),
    model: cut(record.model, 200),
    response_model: record.responseModel == null ? null : cut(record.responseModel, 200),
    prompt_name: record.promptName == null ? null : cut(record.promptName, 200),
    prompt_version: record.promptVersion,
    prompt_variables: record.promptVariables == null ? null : storableJson(record.promptVariables),
    prompt_messages: record.promptMessages,
    input: storableJson(record.input ?? {}),
    output: record.output == null ? null : cut(record.output, MAX_OUTPUT_CHARS),
    input_tokens: record.inputTokens,
    output_tokens: record.outputTokens,
    total_tokens: record.totalTokens,
    cost_usd: record.costUsd,
    latency_ms: record.latencyMs,
    ttft_ms: record.ttftMs,
    status: record.status,
    error_type: record.errorType == null ? null : cut(record.errorType, 100),
    error_message: record.errorMessage == null ? null : cut(record.errorMessage, MAX_ERROR_CHARS),
    replay_of: record.replayOf,
  };
  await em.execute(
    INSERT,
    COLUMNS.map((c) => values[c]),
  );
}

/** Text PostgreSQL can store (NUL and lone surrogates escaped, as in the audit log) of at most `max` characters. */
const cut = (text: string, max: number): string => fitText(text, max);

/**
 * JSON that PostgreSQL's jsonb accepts whatever the caller sent: every string and key goes through the
 * audit log's {@link safeText} (a lone UTF-16 surrogate, which JSON.stringify writes as an escape jsonb
 * refuses, and NUL are escaped), so a hostile question is recorded instead of failing the call.
 */
function storableJson(value: unknown): string {
  const clean = (s: string) => (hasUnstorable(s) ? safeText(s, Number.POSITIVE_INFINITY) : s);
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (typeof inner === 'string') return clean(inner);
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      return Object.fromEntries(Object.entries(inner).map(([k, v]) => [clean(k), v]));
    }
    return inner;
  });
}
