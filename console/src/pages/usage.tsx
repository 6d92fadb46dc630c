// Usage: the tenant's LLM tokens and estimated cost per user, agent (task), model and day for a chosen
// period (`usage(from, to, groupBy)`, one request with an alias per dimension), as charts with tables of
// the same numbers, and the monthly token budgets with their use; Admins set or remove a budget
// (`setTokenBudget`). A user's or model's name in a table opens the generations list filtered to it.
// Auditors and Admins read usage (ADR 0037; the page is ADR 0040).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { generationsPath } from '../routes.ts';
import { type Bar, BarChart, ChartFigure, ColumnChart, topBars } from '../ui/charts.tsx';
import { Empty, ErrorNote, When } from '../ui/common.tsx';
import { useConsole, useHasRole, useQuery } from '../ui/context.ts';

/** One row of a usage report (the dimensions not grouped by are null). */
export interface UsageRow {
  userId: string | null;
  userName: string | null;
  taskId: string | null;
  model: string | null;
  day: string | null;
  calls: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  costUsd: number;
}
interface Report {
  rows: UsageRow[];
  total: UsageRow;
}
interface UsageData {
  byUser: Report;
  byAgent: Report;
  byModel: Report;
  byDay: Report;
}
interface Budget {
  userId: string | null;
  monthlyTokens: number;
  usedTokens: number;
  remainingTokens: number;
  month: string;
  updatedBy: string | null;
  updatedAt: string | null;
}

const ROW = 'calls failed inputTokens outputTokens totalTokens costUsd';
const report = (alias: string, dimension: string, fields: string) =>
  `${alias}: usage(from: $from, to: $to, groupBy: [${dimension}]) { rows { ${fields} ${ROW} } total { ${ROW} } }`;
const USAGE = `query Usage($from: DateTime!, $to: DateTime!) {
  ${report('byUser', 'USER', 'userId userName')}
  ${report('byAgent', 'AGENT', 'taskId')}
  ${report('byModel', 'MODEL', 'model')}
  ${report('byDay', 'DAY', 'day')}
}`;
const BUDGETS = `query TokenBudgets { tokenBudgets { userId monthlyTokens usedTokens remainingTokens month updatedBy updatedAt } }`;
// The input object is written inline so the page does not depend on the input type's name.
const SET_BUDGET = `mutation SetTokenBudget($userId: String, $monthlyTokens: Int) {
  setTokenBudget(input: { userId: $userId, monthlyTokens: $monthlyTokens }) { userId monthlyTokens }
}`;

/** Days are UTC days, as the server groups them. */
const DAY_MS = 86_400_000;
const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);
/** The last 30 days, today included. */
function defaultPeriod() {
  const today = Date.parse(isoDay(Date.now()));
  return { from: isoDay(today - 29 * DAY_MS), to: isoDay(today) };
}
/** The period's variables: from the first day's start to the end of the last day. */
function periodVariables(p: { from: string; to: string }) {
  return {
    from: new Date(`${p.from}T00:00:00Z`).toISOString(),
    to: new Date(Date.parse(`${p.to}T00:00:00Z`) + DAY_MS).toISOString(),
  };
}

const integer = new Intl.NumberFormat('en-US');
const usd = (value: number) =>
  `$${value.toLocaleString('en-US', { minimumFractionDigits: value > 0 && value < 0.01 ? 4 : 2, maximumFractionDigits: value > 0 && value < 0.01 ? 6 : 2 })}`;
export const tokens = (value: number) => `${integer.format(value)} tokens`;
export { usd };

type Metric = 'tokens' | 'cost';
const metricValue = (metric: Metric, row: UsageRow) => (metric === 'tokens' ? row.totalTokens : row.costUsd);
const metricText = (metric: Metric, value: number) => (metric === 'tokens' ? tokens(value) : usd(value));

/** Who a user row is about, in words. */
export const userLabel = (row: { userId: string | null; userName: string | null }) =>
  row.userName ?? row.userId ?? 'no user (service calls)';
const agentLabel = (row: UsageRow) =>
  row.taskId ? `task ${row.taskId.slice(0, 8)}` : 'no task (direct calls)';
const modelLabel = (row: UsageRow) => row.model ?? 'unknown model';

export function UsagePage() {
  const [draft, setDraft] = useState(defaultPeriod);
  const [period, setPeriod] = useState(defaultPeriod);
  const [metric, setMetric] = useState<Metric>('tokens');
  const [periodError, setPeriodError] = useState<string>();
  const { data, error, loading, reload } = useQuery<UsageData>(USAGE, periodVariables(period));
  const apply = (e: Event) => {
    e.preventDefault();
    if (!draft.from || !draft.to) return setPeriodError('Choose both the first and the last day.');
    if (draft.from > draft.to) return setPeriodError('The first day must not be after the last day.');
    setPeriodError(undefined);
    setPeriod(draft);
  };
  const bars = (rows: UsageRow[], label: (r: UsageRow) => string, key: (r: UsageRow) => string) =>
    topBars(
      rows.map((r) => ({
        key: key(r),
        label: label(r),
        value: metricValue(metric, r),
        text: metricText(metric, metricValue(metric, r)),
      })),
      (v) => metricText(metric, v),
    );
  const total = data?.byModel.total;
  return (
    <section aria-labelledby="usage-title">
      <h1 id="usage-title">Usage</h1>
      <p class="hint">
        Tokens and estimated cost of every recorded LLM call (answers, embeddings, the planner), from the
        generation records. Costs come from the price table (LLM_PRICES); local models cost nothing.
      </p>
      <form class="filters" onSubmit={apply} aria-label="period">
        <label>
          First day (UTC)
          <input
            type="date"
            value={draft.from}
            max={draft.to}
            onInput={(e) => setDraft({ ...draft, from: (e.target as HTMLInputElement).value })}
          />
        </label>
        <label>
          Last day (UTC)
          <input
            type="date"
            value={draft.to}
            min={draft.from}
            onInput={(e) => setDraft({ ...draft, to: (e.target as HTMLInputElement).value })}
          />
        </label>
        <fieldset class="metric">
          <legend>Show</legend>
          <label class="check">
            <input
              type="radio"
              name="metric"
              checked={metric === 'tokens'}
              onChange={() => setMetric('tokens')}
            />{' '}
            Tokens
          </label>
          <label class="check">
            <input
              type="radio"
              name="metric"
              checked={metric === 'cost'}
              onChange={() => setMetric('cost')}
            />{' '}
            Cost (USD)
          </label>
        </fieldset>
        <button type="submit" class="primary">
          Show usage
        </button>
      </form>
      {periodError && (
        <p class="error-text" role="alert">
          {periodError}
        </p>
      )}
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {loading && !data && <p role="status">Loading usage…</p>}
      {data && total && (
        <>
          <p data-testid="usage-total" aria-live="polite">
            {period.from} to {period.to}: <strong>{tokens(total.totalTokens)}</strong> (
            {integer.format(total.inputTokens)} in, {integer.format(total.outputTokens)} out) ·{' '}
            <strong>{usd(total.costUsd)}</strong> · {integer.format(total.calls)} calls
            {total.failed > 0 && `, ${integer.format(total.failed)} failed`}
          </p>
          {total.calls === 0 ? (
            <Empty title="No LLM calls recorded in this period.">
              <p>
                Ask a question on the Knowledge page (or upload a document, or run a task with the planner):
                each call is recorded and counted here. Choose a longer period to see older calls.
              </p>
            </Empty>
          ) : (
            <div class="charts">
              <ChartFigure
                id="user"
                caption={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per user`}
                chart={
                  <BarChart
                    id="user"
                    title={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per user`}
                    bars={bars(data.byUser.rows, userLabel, (r) => r.userId ?? '')}
                  />
                }
                table={
                  <UsageTable
                    rows={data.byUser.rows}
                    head="User"
                    cell={(r) =>
                      r.userId ? (
                        <ToGenerations path={generationsPath({ userId: r.userId })} text={userLabel(r)} />
                      ) : (
                        userLabel(r)
                      )
                    }
                  />
                }
              />
              <ChartFigure
                id="agent"
                caption={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per agent task`}
                chart={
                  <BarChart
                    id="agent"
                    title={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per agent task`}
                    bars={bars(data.byAgent.rows, agentLabel, (r) => r.taskId ?? '')}
                  />
                }
                table={
                  <UsageTable rows={data.byAgent.rows} head="Agent task" cell={(r) => <TaskCell row={r} />} />
                }
              />
              <ChartFigure
                id="model"
                caption={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per model`}
                chart={
                  <BarChart
                    id="model"
                    title={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per model`}
                    bars={bars(data.byModel.rows, modelLabel, (r) => r.model ?? '')}
                  />
                }
                table={
                  <UsageTable
                    rows={data.byModel.rows}
                    head="Model"
                    cell={(r) =>
                      r.model ? (
                        <ToGenerations path={generationsPath({ model: r.model })} text={r.model} />
                      ) : (
                        modelLabel(r)
                      )
                    }
                  />
                }
              />
              <ChartFigure
                id="day"
                caption={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per day`}
                chart={
                  <ColumnChart
                    id="day"
                    title={`${metric === 'tokens' ? 'Tokens' : 'Cost'} per day`}
                    bars={dayBars(data.byDay.rows, period, metric)}
                  />
                }
                table={
                  <UsageTable
                    rows={[...data.byDay.rows].sort((a, b) => (a.day ?? '').localeCompare(b.day ?? ''))}
                    head="Day (UTC)"
                    cell={(r) => (r.day ?? '').slice(0, 10)}
                    sorted
                  />
                }
              />
            </div>
          )}
        </>
      )}
      <Budgets />
    </section>
  );
}

/** One column per day of the period (days without calls are zero), when the period is at most 92 days. */
function dayBars(rows: UsageRow[], period: { from: string; to: string }, metric: Metric): Bar[] {
  const byDay = new Map(rows.map((r) => [(r.day ?? '').slice(0, 10), metricValue(metric, r)]));
  const first = Date.parse(`${period.from}T00:00:00Z`);
  const last = Date.parse(`${period.to}T00:00:00Z`);
  const days: string[] = [];
  if ((last - first) / DAY_MS <= 92) for (let t = first; t <= last; t += DAY_MS) days.push(isoDay(t));
  else days.push(...[...byDay.keys()].sort());
  return days.map((day) => {
    const value = byDay.get(day) ?? 0;
    return { key: day, label: day, value, text: metricText(metric, value) };
  });
}

/** A link to the generations list filtered to one row's user or model. */
function ToGenerations({ path, text }: { path: string; text: string }) {
  const { navigate } = useConsole();
  return (
    <a
      href={path}
      onClick={(e) => {
        e.preventDefault();
        navigate(path);
      }}
    >
      {text}
    </a>
  );
}

function TaskCell({ row }: { row: UsageRow }) {
  const { navigate } = useConsole();
  if (!row.taskId) return <span>{agentLabel(row)}</span>;
  const path = `/console/tasks/${row.taskId}`;
  return (
    <a
      href={path}
      onClick={(e) => {
        e.preventDefault();
        navigate(path);
      }}
    >
      {row.taskId}
    </a>
  );
}

/** A usage report as a table: largest first unless `sorted` (days keep their order). */
function UsageTable({
  rows,
  head,
  cell,
  sorted,
}: {
  rows: UsageRow[];
  head: string;
  cell: (row: UsageRow) => ComponentChildren;
  sorted?: boolean;
}) {
  const ordered = sorted ? rows : [...rows].sort((a, b) => b.totalTokens - a.totalTokens);
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{head}</th>
          <th scope="col">Calls</th>
          <th scope="col">Failed</th>
          <th scope="col">Input tokens</th>
          <th scope="col">Output tokens</th>
          <th scope="col">Total tokens</th>
          <th scope="col">Cost (USD)</th>
        </tr>
      </thead>
      <tbody>
        {ordered.map((r) => (
          <tr>
            <th scope="row">{cell(r)}</th>
            <td>{integer.format(r.calls)}</td>
            <td>{integer.format(r.failed)}</td>
            <td>{integer.format(r.inputTokens)}</td>
            <td>{integer.format(r.outputTokens)}</td>
            <td>{integer.format(r.totalTokens)}</td>
            <td>{usd(r.costUsd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The largest value GraphQL's Int carries. */
const MAX_INT = 2_147_483_647;

/** Monthly token budgets with this month's use; Admins set or remove one. */
function Budgets() {
  const { graph } = useConsole();
  const admin = useHasRole('Admin');
  const { data, error, loading, reload } = useQuery<{ tokenBudgets: Budget[] }>(BUDGETS);
  const [user, setUser] = useState('');
  const [limit, setLimit] = useState('');
  const [invalid, setInvalid] = useState<string>();
  const [saveError, setSaveError] = useState<unknown>();
  const [saved, setSaved] = useState<string>();
  const [saving, setSaving] = useState(false);
  const budgets = data?.tokenBudgets ?? [];
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(undefined);
    setSaveError(undefined);
    const text = limit.trim();
    // Only the form is checked here (a whole number); the server checks the range and says why it refuses.
    if (text !== '' && (!/^-?\d+$/.test(text) || Math.abs(Number(text)) > MAX_INT)) {
      setInvalid(
        `Enter a whole number of tokens up to ${integer.format(MAX_INT)}, or leave it empty to remove the budget.`,
      );
      return;
    }
    setInvalid(undefined);
    setSaving(true);
    const who = user.trim() === '' ? null : user.trim();
    try {
      const result = await graph.request<{ setTokenBudget: { monthlyTokens: number } | null }>(SET_BUDGET, {
        userId: who,
        monthlyTokens: text === '' ? null : Number(text),
      });
      const whom = who ?? 'the whole tenant';
      setSaved(
        result.setTokenBudget
          ? `Saved: ${tokens(result.setTokenBudget.monthlyTokens)} a month for ${whom}.`
          : `Removed the budget of ${whom}.`,
      );
      reload();
    } catch (failure) {
      setSaveError(failure);
    } finally {
      setSaving(false);
    }
  };
  return (
    <section aria-labelledby="budgets-title" class="budgets">
      <h2 id="budgets-title">Monthly token budgets</h2>
      <p class="hint">
        A call that would go over its user’s or the tenant’s budget this month is refused before it is made
        (BUDGET_EXCEEDED).
      </p>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {!loading && !error && budgets.length === 0 && (
        <Empty title="No token budgets are set: calls are not limited.">
          <p>{admin ? 'Set one below.' : 'An Admin can set a tenant-wide budget or one per user.'}</p>
        </Empty>
      )}
      {budgets.length > 0 && (
        <table>
          <caption>This month’s use against each budget.</caption>
          <thead>
            <tr>
              <th scope="col">Applies to</th>
              <th scope="col">Use</th>
              <th scope="col">Used</th>
              <th scope="col">Budget</th>
              <th scope="col">Left</th>
              <th scope="col">Set by</th>
            </tr>
          </thead>
          <tbody>
            {budgets.map((b) => {
              const who = b.userId ?? 'Whole tenant';
              const share = b.monthlyTokens > 0 ? b.usedTokens / b.monthlyTokens : 1;
              return (
                <tr key={b.userId ?? ''} data-budget={b.userId ?? ''}>
                  <th scope="row">{who}</th>
                  <td>
                    <meter
                      min={0}
                      max={Math.max(1, b.monthlyTokens)}
                      value={b.usedTokens}
                      low={Math.max(1, b.monthlyTokens) * 0.8}
                      high={Math.max(1, b.monthlyTokens) * 0.95}
                      optimum={0}
                      aria-label={`${who}: ${Math.round(share * 100)}% of the budget used`}
                    />{' '}
                    {Math.round(share * 100)}%
                  </td>
                  <td>{integer.format(b.usedTokens)}</td>
                  <td>{integer.format(b.monthlyTokens)}</td>
                  <td>{integer.format(b.remainingTokens)}</td>
                  <td>
                    {b.updatedBy ?? '–'} <When at={b.updatedAt} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {admin && (
        <form class="budget-form" onSubmit={save} aria-labelledby="set-budget-title" noValidate>
          <h3 id="set-budget-title">Set a budget</h3>
          <label>
            User id (empty: the whole tenant)
            <input value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Tokens a month (empty: remove the budget)
            <input
              inputMode="numeric"
              value={limit}
              aria-invalid={invalid ? 'true' : undefined}
              aria-describedby={invalid ? 'budget-invalid' : undefined}
              onInput={(e) => setLimit((e.target as HTMLInputElement).value)}
            />
          </label>
          {invalid && (
            <p id="budget-invalid" class="error-text" role="alert">
              {invalid}
            </p>
          )}
          <div class="actions">
            <button type="submit" class="primary" disabled={saving}>
              Save budget
            </button>
          </div>
          {saveError !== undefined && <ErrorNote error={saveError} />}
          {saved && <p role="status">{saved}</p>}
        </form>
      )}
    </section>
  );
}
