// Reads the tenant's generation records (observability.generations, written by the llm package's
// recorder in every process; ADR 0037). The tenant transaction and row-level security decide what
// is visible: another tenant's generations do not exist here.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Keyset, PageRequest } from '#kernel/graphql/connection.ts';
import { parseId } from '#kernel/graphql/ids.ts';

/** A generation as the `Generation` type shows it. */
export interface GenerationView {
  id: string;
  at: Date;
  operation: string;
  purpose: string;
  actorKind: 'USER' | 'AGENT' | 'SERVICE';
  userId: string | null;
  userName: string | null;
  taskId: string | null;
  provider: string;
  model: string;
  responseModel: string | null;
  promptName: string | null;
  promptVersion: number | null;
  input: string;
  output: string | null;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  status: 'SUCCEEDED' | 'FAILED';
  errorType: string | null;
  errorMessage: string | null;
  traceId: string | null;
  replayOfId: string | null;
}

/** What `generations` filters by. */
export interface GenerationFilter {
  status?: 'SUCCEEDED' | 'FAILED' | null;
  userId?: string | null;
  taskId?: string | null;
  model?: string | null;
  operation?: string | null;
  purpose?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const SELECT = `select id, created_at, operation, purpose, actor_kind, user_id, user_name, task_id, provider,
  model, response_model, prompt_name, prompt_version, input::text as input, output, input_tokens,
  output_tokens, total_tokens, cost_usd, latency_ms, ttft_ms, status, error_type, error_message, trace_id,
  replay_of
  from observability.generations`;

interface Row {
  id: string;
  created_at: Date | string;
  operation: string;
  purpose: string;
  actor_kind: GenerationView['actorKind'];
  user_id: string | null;
  user_name: string | null;
  task_id: string | null;
  provider: string;
  model: string;
  response_model: string | null;
  prompt_name: string | null;
  prompt_version: number | null;
  input: string;
  output: string | null;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  cost_usd: string | number;
  latency_ms: number;
  ttft_ms: number | null;
  status: GenerationView['status'];
  error_type: string | null;
  error_message: string | null;
  trace_id: string | null;
  replay_of: string | null;
}

function view(row: Row): GenerationView {
  return {
    id: row.id,
    at: new Date(row.created_at),
    operation: row.operation,
    purpose: row.purpose,
    actorKind: row.actor_kind,
    userId: row.user_id,
    userName: row.user_name,
    taskId: row.task_id,
    provider: row.provider,
    model: row.model,
    responseModel: row.response_model,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    input: row.input,
    output: row.output,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    totalTokens: Number(row.total_tokens),
    costUsd: Number(row.cost_usd),
    latencyMs: Number(row.latency_ms),
    timeToFirstTokenMs: row.ttft_ms == null ? null : Number(row.ttft_ms),
    status: row.status,
    errorType: row.error_type,
    errorMessage: row.error_message,
    traceId: row.trace_id,
    replayOfId: row.replay_of,
  };
}

/** A generation id (a UUID), or BAD_USER_INPUT naming the argument (the kernel's ID check). */
export const parseGenerationId = (id: unknown, argument = 'id'): string => parseId(id as string, argument);

/** One generation of the tenant, or null. */
export async function findGeneration(em: EntityManager, id: string): Promise<GenerationView | null> {
  const [row] = await em.execute<Row[]>(`${SELECT} where id = ?`, [id]);
  return row ? view(row) : null;
}

/** The generations that replay `id`, oldest first. */
export async function replaysOf(em: EntityManager, id: string): Promise<GenerationView[]> {
  const rows = await em.execute<Row[]>(`${SELECT} where replay_of = ? order by created_at, id`, [id]);
  return rows.map(view);
}

/** Up to `page.first + 1` generations of the tenant, newest first, matching every filter. */
export async function listGenerations(
  em: EntityManager,
  filter: GenerationFilter,
  page: PageRequest,
): Promise<GenerationView[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    where.push(sql);
    params.push(value);
  };
  if (filter.status) add('status = ?', filter.status);
  if (filter.userId) add('user_id = ?', filter.userId);
  if (filter.taskId) add('task_id = ?', parseGenerationId(filter.taskId, 'filter.taskId'));
  if (filter.model) {
    where.push('(model = ? or response_model = ?)');
    params.push(filter.model, filter.model);
  }
  if (filter.operation) add('operation = ?', filter.operation);
  if (filter.purpose) add('purpose = ?', filter.purpose);
  if (filter.from) add('created_at >= ?', filter.from.toISOString());
  if (filter.to) add('created_at < ?', filter.to.toISOString());
  if (page.after) {
    where.push('(created_at, id) < (?, ?)');
    params.push(page.after.at.toISOString(), page.after.id);
  }
  const rows = await em.execute<Row[]>(
    `${SELECT} ${where.length ? `where ${where.join(' and ')}` : ''}
     order by created_at desc, id desc limit ${page.first + 1}`,
    params,
  );
  return rows.map(view);
}

/** The keyset of a listed generation. */
export const generationKey = (g: GenerationView): Keyset => ({ at: g.at, id: g.id });
