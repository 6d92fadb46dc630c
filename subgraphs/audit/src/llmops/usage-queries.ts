// Token use of the tenant over a time range, grouped by user, agent task, model and day (from
// observability.generations), and its monthly budgets with what the month has used of each (from
// observability.token_budgets and token_usage). ADR 0037.
import type { EntityManager } from '@mikro-orm/postgresql';
import { ValidationError } from '#kernel/errors.ts';
import { monthOf } from '#llm/generations/budget-guard.ts';

/** A `usage` grouping. */
export type UsageDimension = 'USER' | 'AGENT' | 'MODEL' | 'DAY';

/** One row of a usage report. */
export interface UsageRowView {
  userId: string | null;
  userName: string | null;
  taskId: string | null;
  model: string | null;
  day: Date | null;
  calls: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
}

/** A usage report. */
export interface UsageReportView {
  from: Date;
  to: Date;
  groupBy: UsageDimension[];
  rows: UsageRowView[];
  total: UsageRowView;
}

/** Most rows one report returns (a DAY × USER report of a year of a large tenant is its own export). */
export const MAX_USAGE_ROWS = 5000;

const GROUPS: Record<UsageDimension, { select: string[]; by: string[] }> = {
  USER: { select: ['user_id', 'max(user_name) as user_name'], by: ['user_id'] },
  AGENT: { select: ['task_id'], by: ['task_id'] },
  MODEL: { select: ['model'], by: ['model'] },
  DAY: {
    select: [`date_trunc('day', created_at at time zone 'UTC') as day`],
    by: [`date_trunc('day', created_at at time zone 'UTC')`],
  },
};

const SUMS = `count(*)::int as calls, (count(*) filter (where status = 'FAILED'))::int as failed,
  coalesce(sum(input_tokens), 0)::bigint as input_tokens, coalesce(sum(output_tokens), 0)::bigint as output_tokens,
  coalesce(sum(total_tokens), 0)::bigint as total_tokens, coalesce(sum(cost_usd), 0) as cost_usd`;

interface Row {
  user_id?: string | null;
  user_name?: string | null;
  task_id?: string | null;
  model?: string | null;
  day?: Date | string | null;
  calls: number;
  failed: number;
  input_tokens: string | number;
  output_tokens: string | number;
  total_tokens: string | number;
  cost_usd: string | number;
}

function rowView(row: Row): UsageRowView {
  return {
    userId: row.user_id ?? null,
    userName: row.user_name ?? null,
    taskId: row.task_id ?? null,
    model: row.model ?? null,
    // `timestamp without time zone` in UTC, as the date_trunc above made it.
    day: row.day == null ? null : utcDay(row.day),
    calls: Number(row.calls),
    failed: Number(row.failed),
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    totalTokens: Number(row.total_tokens),
    costUsd: Math.round(Number(row.cost_usd) * 1e6) / 1e6,
  };
}

function utcDay(value: Date | string): Date {
  if (value instanceof Date) {
    // pg reads a timestamp without time zone as local time: take its local fields as UTC.
    return new Date(Date.UTC(value.getFullYear(), value.getMonth(), value.getDate()));
  }
  return new Date(`${value.slice(0, 10)}T00:00:00.000Z`);
}

/** The tenant's usage in [from, to), grouped by `groupBy` (none: one row, the total), largest first. */
export async function usageReport(
  em: EntityManager,
  from: Date,
  to: Date,
  groupBy: readonly UsageDimension[],
): Promise<UsageReportView> {
  if (from.getTime() >= to.getTime()) {
    throw new ValidationError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, {
      argument: 'from',
    });
  }
  const dims = [...new Set(groupBy)];
  const range = [from.toISOString(), to.toISOString()];
  const where = 'where created_at >= ? and created_at < ?';
  const [total] = await em.execute<Row[]>(`select ${SUMS} from observability.generations ${where}`, range);
  let rows: Row[] = [];
  if (dims.length > 0) {
    const select = dims.flatMap((d) => GROUPS[d].select).join(', ');
    const by = dims.flatMap((d) => GROUPS[d].by).join(', ');
    const order = dims.includes('DAY') ? `${GROUPS.DAY.by[0]}, total_tokens desc` : 'total_tokens desc';
    rows = await em.execute<Row[]>(
      `select ${select}, ${SUMS} from observability.generations ${where}
       group by ${by} order by ${order} limit ${MAX_USAGE_ROWS}`,
      range,
    );
  }
  return { from, to, groupBy: dims, rows: rows.map(rowView), total: rowView(total!) };
}

/** A budget as `TokenBudget` shows it. */
export interface TokenBudgetView {
  userId: string | null;
  monthlyTokens: number;
  usedTokens: number;
  remainingTokens: number;
  month: Date;
  updatedBy: string | null;
  updatedAt: Date | null;
}

/** Every budget of the tenant (tenant-wide first) with this month's use of each. */
export async function listBudgets(
  em: EntityManager,
  tenantId: string,
  at = new Date(),
): Promise<TokenBudgetView[]> {
  const rows = await em.execute<
    { user_id: string; monthly_tokens: string; updated_by: string; updated_at: Date }[]
  >(
    `select user_id, monthly_tokens, updated_by, updated_at from observability.token_budgets
      where tenant_id = ? and monthly_tokens is not null order by user_id`,
    [tenantId],
  );
  const month = monthOf(at).toISOString().slice(0, 10);
  const used = await em.execute<{ user_id: string; tokens: string }[]>(
    'select user_id, tokens from observability.token_usage where tenant_id = ? and month = ?::date',
    [tenantId, month],
  );
  const all = used.reduce((sum, r) => sum + Number(r.tokens), 0);
  const byUser = new Map(used.map((r) => [r.user_id, Number(r.tokens)]));
  return rows.map((r) => {
    const monthlyTokens = Number(r.monthly_tokens);
    const usedTokens = r.user_id === '' ? all : (byUser.get(r.user_id) ?? 0);
    return {
      userId: r.user_id === '' ? null : r.user_id,
      monthlyTokens,
      usedTokens,
      remainingTokens: Math.max(0, monthlyTokens - usedTokens),
      month: monthOf(at),
      updatedBy: r.updated_by,
      updatedAt: new Date(r.updated_at),
    };
  });
}

/** Sets (or, with `monthlyTokens` null, removes) a budget; returns it with this month's use, or null when removed. */
export async function setBudget(
  em: EntityManager,
  tenantId: string,
  userId: string | null,
  monthlyTokens: number | null,
  updatedBy: string,
): Promise<TokenBudgetView | null> {
  if (monthlyTokens !== null && (!Number.isInteger(monthlyTokens) || monthlyTokens < 0)) {
    throw new ValidationError(
      `monthlyTokens must be a whole number of at least 0, or null to remove the budget (got ${monthlyTokens})`,
      {
        argument: 'input.monthlyTokens',
      },
    );
  }
  const user = userId?.trim() ?? '';
  if (userId !== null && (user === '' || user.length > 200)) {
    throw new ValidationError(
      'userId must be a user object id of 1 to 200 characters, or null for the tenant-wide budget',
      {
        argument: 'input.userId',
      },
    );
  }
  await em.execute(
    `insert into observability.token_budgets (tenant_id, user_id, monthly_tokens, updated_by, updated_at)
     values (?, ?, ?, ?, now())
     on conflict (tenant_id, user_id) do update
       set monthly_tokens = excluded.monthly_tokens, updated_by = excluded.updated_by, updated_at = now()`,
    [tenantId, user, monthlyTokens, updatedBy.slice(0, 300)],
  );
  if (monthlyTokens === null) return null;
  return (await listBudgets(em, tenantId)).find((b) => (b.userId ?? '') === user) ?? null;
}
