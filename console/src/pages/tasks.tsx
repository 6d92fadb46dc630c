// Tasks: the list with live status (taskStatusChanged), a task's timeline of steps (input, output,
// duration, approval), and creating a task from a plan (a goal and tool steps).
import { useState } from 'preact/hooks';
import { Badge, duration, Empty, ErrorNote, Json, When } from '../ui/common.tsx';
import { useConsole, useHasRole, useLive, useQuery } from '../ui/context.ts';

interface TaskRow {
  id: string;
  title: string;
  goal: string;
  status: string;
  createdAt: string;
  createdBy: string;
}
interface Step {
  id: string;
  ordinal: number;
  tool: string;
  status: string;
  riskLevel: string | null;
  input: Record<string, unknown>;
  output: Record<string, unknown> | null;
  error: string | null;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  approvalId: string | null;
}

const TASKS = '{ tasks(first: 50) { edges { node { id title goal status createdAt createdBy } } } }';
const TASK = `query ($id: ID!) { task(id: $id) {
  id title goal status createdAt createdBy
  steps { id ordinal tool status riskLevel input output error attempts startedAt finishedAt approvalId }
  approvals { id status requiredApprovals approvals { approver comment } decidedBy }
} }`;
const CHANGED = 'subscription { taskStatusChanged { taskId to } }';

function TaskLink({ id, children }: { id: string; children: string }) {
  const { navigate } = useConsole();
  return (
    <a
      href={`/console/tasks/${id}`}
      onClick={(e) => {
        e.preventDefault();
        navigate(`/console/tasks/${id}`);
      }}
    >
      {children}
    </a>
  );
}

export function TasksPage() {
  const { data, error, loading, reload } = useQuery<{ tasks: { edges: { node: TaskRow }[] } }>(TASKS);
  useLive(CHANGED, reload);
  const tasks = data?.tasks.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="tasks-title">
      <h1 id="tasks-title">Tasks</h1>
      <CreateTask onCreated={reload} />
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {!loading && !error && tasks.length === 0 && (
        <Empty title="No tasks yet.">
          <p>Create one from a plan above; its status follows here live.</p>
        </Empty>
      )}
      {tasks.length > 0 && (
        <table>
          <caption>Newest first; statuses update live.</caption>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
              <th scope="col">By</th>
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={t.id} data-task={t.id}>
                <td>
                  <TaskLink id={t.id}>{t.title}</TaskLink>
                </td>
                <td>
                  <Badge value={t.status} />
                </td>
                <td>
                  <When at={t.createdAt} />
                </td>
                <td>{t.createdBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const EXAMPLE_PLAN = JSON.stringify(
  [
    { tool: 'notes.create', input: { title: 'Q3', body: 'Revenue up 12%' } },
    { tool: 'email.send', input: { to: ['board@example.com'], subject: 'Q3', body: 'Up 12%' } },
  ],
  null,
  2,
);

function CreateTask({ onCreated }: { onCreated(): void }) {
  const { graph, navigate } = useConsole();
  const allowed = useHasRole('Contributor', 'Admin');
  const tools = useQuery<{ tools: { name: string; riskLevel: string; requiresApproval: boolean }[] }>(
    '{ tools { name riskLevel requiresApproval } }',
  );
  const [goal, setGoal] = useState('');
  const [plan, setPlan] = useState(EXAMPLE_PLAN);
  const [error, setError] = useState<unknown>();
  if (!allowed) return <p class="hint">Creating tasks needs the Contributor or Admin role.</p>;
  const submit = (event: Event) => {
    event.preventDefault();
    let steps: unknown;
    try {
      steps = JSON.parse(plan);
      if (!Array.isArray(steps)) throw new Error('the plan must be a JSON list of {tool, input} steps');
    } catch (e) {
      setError(new Error(`Plan: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    graph
      .request<{ createTask: { id: string } }>(
        'mutation ($input: CreateTaskInput!) { createTask(input: $input) { id status } }',
        { input: { goal, steps } },
      )
      .then((d) => {
        setError(undefined);
        onCreated();
        navigate(`/console/tasks/${d.createTask.id}`);
      }, setError);
  };
  return (
    <details class="create">
      <summary>Create a task from a plan</summary>
      <form onSubmit={submit}>
        <label for="task-goal">Goal</label>
        <input
          id="task-goal"
          required
          value={goal}
          onInput={(e) => setGoal((e.target as HTMLInputElement).value)}
        />
        <label for="task-plan">Plan: a JSON list of steps, each a tool and its input</label>
        <textarea
          id="task-plan"
          rows={8}
          value={plan}
          onInput={(e) => setPlan((e.target as HTMLTextAreaElement).value)}
        />
        {tools.data && (
          <p class="hint">
            Tools:{' '}
            {tools.data.tools.map((t, i) => (
              <span>
                {i > 0 ? ', ' : ''}
                <code>{t.name}</code> ({t.riskLevel.toLowerCase()}
                {t.requiresApproval ? ', needs approval' : ''})
              </span>
            ))}
          </p>
        )}
        {error !== undefined && <ErrorNote error={error} />}
        <button type="submit" class="primary">
          Create task
        </button>
      </form>
    </details>
  );
}

export function TaskPage({ id }: { id: string }) {
  const { graph, navigate } = useConsole();
  const { data, error, reload } = useQuery<{
    task: (TaskRow & { steps: Step[]; approvals: { id: string; status: string }[] }) | null;
  }>(TASK, { id });
  useLive(CHANGED, reload, { taskId: id });
  const [actionError, setActionError] = useState<unknown>();
  const task = data?.task;
  return (
    <section aria-labelledby="task-title">
      <p>
        <a
          href="/console/tasks"
          onClick={(e) => {
            e.preventDefault();
            navigate('/console/tasks');
          }}
        >
          ← All tasks
        </a>
      </p>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {data && !task && <Empty title="No such task in this tenant." />}
      {task && (
        <>
          <h1 id="task-title">
            {task.title} <Badge value={task.status} />
          </h1>
          <p>{task.goal}</p>
          <p class="hint">
            Created <When at={task.createdAt} /> by {task.createdBy}.
          </p>
          {['PENDING', 'RUNNING', 'WAITING_FOR_APPROVAL', 'PAUSED'].includes(task.status) && (
            <button
              type="button"
              onClick={() =>
                graph
                  .request('mutation ($id: ID!) { cancelTask(id: $id) { id } }', { id })
                  .then(reload, setActionError)
              }
            >
              Cancel task
            </button>
          )}
          {actionError !== undefined && <ErrorNote error={actionError} />}
          <h2>Steps</h2>
          {task.steps.length === 0 && <Empty title="This task has no tool steps." />}
          <ol class="timeline">
            {task.steps.map((s) => (
              <li key={s.id} data-step={s.ordinal}>
                <h3>
                  <code>{s.tool}</code> <Badge value={s.status} />
                  {s.riskLevel && <Badge value={s.riskLevel} />}
                </h3>
                <p class="hint">
                  {duration(s.startedAt, s.finishedAt)} · attempt {s.attempts}
                  {s.approvalId
                    ? ` · approval ${task.approvals.find((a) => a.id === s.approvalId)?.status ?? s.approvalId}`
                    : ''}
                </p>
                <h4>Input</h4>
                <Json value={s.input} label={`input of step ${s.ordinal + 1}`} />
                {s.output && (
                  <>
                    <h4>Output</h4>
                    <Json value={s.output} label={`output of step ${s.ordinal + 1}`} />
                  </>
                )}
                {s.error && <p class="error-text">{s.error}</p>}
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
