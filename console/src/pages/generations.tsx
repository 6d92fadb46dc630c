// Generations: every recorded LLM call of the tenant (`generations(filter)`, newest first) with filters —
// failed calls one click away — and one call's record (`generation(id)`): its input and output as the server
// stored them (already redacted), tokens, cost, latency, time to first token, the trace it ran in, and for
// Admins a replay with another prompt version or model beside the original (`replayGeneration`, ADR 0038).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { GraphQLFailure } from '../api/graphql.ts';
import { Badge, Empty, ErrorNote, Json, When } from '../ui/common.tsx';
import { useConsole, useHasRole, useQuery } from '../ui/context.ts';
import { type Connection, useFilteredPages } from '../ui/filtered-pages.ts';
import { tokens, usd, userLabel } from './usage.tsx';

interface GenerationRow {
  id: string;
  at: string;
  operation: string;
  purpose: string;
  actorKind: string;
  userId: string | null;
  userName: string | null;
  taskId: string | null;
  provider: string;
  model: string;
  totalTokens: number;
  costUsd: number;
  latencyMs: number;
  status: string;
  errorType: string | null;
}
interface GenerationView extends GenerationRow {
  responseModel: string | null;
  promptName: string | null;
  promptVersion: number | null;
  input: string;
  output: string | null;
  inputTokens: number;
  outputTokens: number;
  timeToFirstTokenMs: number | null;
  errorMessage: string | null;
  traceId: string | null;
  replayOf: { id: string; at: string } | null;
  replays: { id: string; at: string; model: string; promptVersion: number | null; status: string }[];
}

const ROW =
  'id at operation purpose actorKind userId userName taskId provider model totalTokens costUsd latencyMs status errorType';
const LIST = `query Generations($filter: GenerationFilter, $after: String) {
  generations(filter: $filter, first: 25, after: $after) {
    edges { node { ${ROW} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const ONE = `query Generation($id: ID!) { generation(id: $id) {
  ${ROW} responseModel promptName promptVersion input output inputTokens outputTokens timeToFirstTokenMs
  errorMessage traceId replayOf { id at } replays { id at model promptVersion status }
} }`;
const PROMPTS = `query PromptVersions($name: String) { prompts(name: $name) { name version current builtIn comment at } }`;
const REPLAY = `mutation ReplayGeneration($id: ID!, $promptVersion: Int, $model: String) {
  replayGeneration(id: $id, promptVersion: $promptVersion, model: $model) {
    original { id model promptVersion output status }
    replay { id model promptVersion output status errorType errorMessage totalTokens costUsd latencyMs }
  }
}`;

type Filter = { status: string; model: string; userId: string; purpose: string; operation: string };
const NO_FILTER: Filter = { status: '', model: '', userId: '', purpose: '', operation: '' };
/** Purposes the platform records (others may appear; the field takes any text). */
const PURPOSES = ['answer', 'planner', 'ingest', 'search', 'replay'];

/** The filter a link gave in its query string (`/console/generations?userId=…&status=FAILED`). */
export function filterFromSearch(search: string): Filter {
  const params = new URLSearchParams(search);
  const filter = { ...NO_FILTER };
  for (const key of Object.keys(NO_FILTER) as (keyof Filter)[]) filter[key] = params.get(key) ?? '';
  return filter;
}

function filterVariables(f: Filter) {
  const text = (v: string) => v.trim() || undefined;
  return {
    filter: {
      status: f.status || undefined,
      model: text(f.model),
      userId: text(f.userId),
      purpose: text(f.purpose),
      operation: f.operation || undefined,
    },
  };
}

export const ms = (value: number | null | undefined) =>
  value == null ? '–' : value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`;

/** Who a call ran for: the user, the agent's task, or a service. */
function whoRan(g: GenerationRow): string {
  if (g.actorKind === 'AGENT') return `agent task ${g.taskId?.slice(0, 8) ?? '?'} for ${userLabel(g)}`;
  if (g.actorKind === 'SERVICE' && !g.userId) return 'service';
  return userLabel(g);
}

function Link({ to, children }: { to: string; children: ComponentChildren }) {
  const { navigate } = useConsole();
  return (
    <a
      href={to}
      onClick={(e) => {
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** The list of generations with filters. */
export function GenerationsPage() {
  const {
    field,
    choice,
    apply,
    applyFilter,
    applied,
    rows,
    next,
    loadMore,
    error,
    moreError,
    loading,
    reload,
  } = useFilteredPages(
    LIST,
    filterFromSearch(location.search),
    filterVariables,
    (d: { generations: Connection<GenerationRow> }) => d.generations,
  );
  const filtered = Object.values(applied).some((v) => v.trim() !== '');
  const failedOnly = applied.status === 'FAILED';
  return (
    <section aria-labelledby="generations-title">
      <h1 id="generations-title">Generations</h1>
      <p class="hint">
        Every LLM call the platform made for this tenant: answers, embeddings and planner calls, with what was
        sent and returned (redacted by the server’s policy, LLM_REDACT), tokens, cost and timing.
      </p>
      <div class="actions">
        <button
          type="button"
          aria-pressed={failedOnly}
          class={failedOnly ? 'primary' : undefined}
          onClick={() => applyFilter({ ...applied, status: failedOnly ? '' : 'FAILED' })}
        >
          Failed calls only
        </button>
      </div>
      <form class="filters" onSubmit={apply} aria-label="filters">
        <label>
          Status
          <select {...choice('status')}>
            <option value="">any</option>
            <option value="SUCCEEDED">succeeded</option>
            <option value="FAILED">failed</option>
          </select>
        </label>
        <label>
          Model
          <input {...field('model')} placeholder="gpt-4o-mini" />
        </label>
        <label>
          User id
          <input {...field('userId')} />
        </label>
        <label>
          Purpose
          <input {...field('purpose')} list="generation-purposes" />
          <datalist id="generation-purposes">
            {PURPOSES.map((p) => (
              <option value={p} />
            ))}
          </datalist>
        </label>
        <label>
          Operation
          <select {...choice('operation')}>
            <option value="">any</option>
            <option value="chat">chat</option>
            <option value="embeddings">embeddings</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {moreError !== undefined && <ErrorNote error={moreError} />}
      {!loading && !error && rows.length === 0 && !filtered && (
        <Empty title="No LLM calls recorded yet.">
          <p>
            Ask a question on the Knowledge page, upload a document or run a task: every answer, embedding and
            planner call is recorded here.
          </p>
        </Empty>
      )}
      {!loading && !error && rows.length === 0 && filtered && (
        <Empty title="No generations match these filters.">
          <p>
            {failedOnly
              ? 'No call failed with these filters: nothing to replay.'
              : 'Clear a filter, or check the model and user id as the list shows them.'}
          </p>
        </Empty>
      )}
      {rows.length > 0 && (
        <table>
          <caption>Newest first.</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Call</th>
              <th scope="col">Model</th>
              <th scope="col">For</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
              <th scope="col">Latency</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((g) => (
              <tr key={g.id} data-generation={g.id}>
                <td>
                  <Link to={`/console/generations/${g.id}`}>
                    <When at={g.at} />
                  </Link>
                </td>
                <td>
                  {g.operation} · {g.purpose}
                </td>
                <td>
                  {g.model}
                  <span class="hint"> ({g.provider})</span>
                </td>
                <td>{whoRan(g)}</td>
                <td>{g.totalTokens.toLocaleString('en-US')}</td>
                <td>{usd(g.costUsd)}</td>
                <td>{ms(g.latencyMs)}</td>
                <td>
                  <Badge value={g.status} />
                  {g.errorType && <span class="hint"> {g.errorType}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next?.hasNextPage && (
        <button type="button" onClick={loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}

/** A chat input's messages when the input is `{messages:[{role, content}]}`, else undefined. */
function messagesOf(input: unknown): { role: string; content: string }[] | undefined {
  const messages = (input as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return undefined;
  return messages.map((m: { role?: unknown; content?: unknown }) => ({
    role: String(m?.role ?? '?'),
    content: typeof m?.content === 'string' ? m.content : JSON.stringify(m?.content),
  }));
}

function Input({ text }: { text: string }) {
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: shown as it is.
  }
  const messages = messagesOf(parsed);
  if (!messages) return <Json value={parsed} label="input" />;
  return (
    <ol class="messages" aria-label="input messages">
      {messages.map((m) => (
        <li>
          <strong>{m.role}</strong>
          <Text value={m.content} label={`${m.role} message`} />
        </li>
      ))}
    </ol>
  );
}

/** Long text, scrollable and keyboard-reachable. */
function Text({ value, label }: { value: string; label: string }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: keyboard users scroll long text (axe scrollable-region-focusable)
    <section class="json text" aria-label={label} tabIndex={0}>
      <pre>{value}</pre>
    </section>
  );
}

/** One generation. */
export function GenerationPage({ id }: { id: string }) {
  const { data, error, loading, reload } = useQuery<{ generation: GenerationView | null }>(ONE, { id });
  const admin = useHasRole('Admin');
  const g = data?.generation;
  return (
    <section aria-labelledby="generation-title">
      <h1 id="generation-title">Generation {g ? `· ${g.operation} · ${g.purpose}` : ''}</h1>
      <p>
        <Link to="/console/generations">All generations</Link>
      </p>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {loading && !data && <p role="status">Loading the generation…</p>}
      {data && !g && (
        <Empty title={`No generation ${id} is recorded.`}>
          <p>
            It may belong to another tenant, or the link is mistyped: open it from the list of generations.
          </p>
        </Empty>
      )}
      {g && (
        <>
          <p data-testid="generation-summary">
            <Badge value={g.status} /> {g.model} ({g.provider}) · {tokens(g.totalTokens)} · {usd(g.costUsd)} ·{' '}
            {ms(g.latencyMs)} · <When at={g.at} />
          </p>
          <dl data-testid="generation-facts">
            <dt>For</dt>
            <dd>
              {whoRan(g)}
              {g.taskId && (
                <>
                  {' '}
                  · <Link to={`/console/tasks/${g.taskId}`}>open the task</Link>
                </>
              )}
            </dd>
            <dt>Model</dt>
            <dd>
              {g.model}
              {g.responseModel && g.responseModel !== g.model && ` (answered by ${g.responseModel})`}
            </dd>
            <dt>Prompt</dt>
            <dd>{g.promptName ? `${g.promptName} v${g.promptVersion ?? 0}` : 'none (not templated)'}</dd>
            <dt>Tokens</dt>
            <dd>
              {g.inputTokens.toLocaleString('en-US')} in, {g.outputTokens.toLocaleString('en-US')} out,{' '}
              {g.totalTokens.toLocaleString('en-US')} total
            </dd>
            <dt>Cost</dt>
            <dd>{usd(g.costUsd)}</dd>
            <dt>Latency</dt>
            <dd>{ms(g.latencyMs)}</dd>
            <dt>First token</dt>
            <dd>{g.timeToFirstTokenMs == null ? 'not streamed' : ms(g.timeToFirstTokenMs)}</dd>
            <dt>Trace</dt>
            <dd>
              {g.traceId ? (
                <Link to={`/console/traces/${g.traceId}`}>Open the trace of this call (flame graph)</Link>
              ) : (
                'not traced'
              )}
            </dd>
            {g.replayOf && (
              <>
                <dt>Replay of</dt>
                <dd>
                  <Link to={`/console/generations/${g.replayOf.id}`}>the original call</Link>
                </dd>
              </>
            )}
          </dl>
          {g.status === 'FAILED' && (
            <div class="note error" role="note">
              <p>
                <strong>{g.errorType ?? 'error'}:</strong> {g.errorMessage ?? 'no message recorded'}
              </p>
              {admin && <p>Replay it below with another prompt version or model.</p>}
            </div>
          )}
          <h2>Input</h2>
          <p class="hint">As stored: the server’s redaction policy has already removed what it names.</p>
          <Input text={g.input} />
          <h2>Output</h2>
          {g.output == null ? (
            <p>No output (the call {g.status === 'FAILED' ? 'failed' : 'returned vectors'}).</p>
          ) : (
            <Text value={g.output} label="output" />
          )}
          {g.replays.length > 0 && (
            <>
              <h2>Replays</h2>
              <ul>
                {g.replays.map((r) => (
                  <li>
                    <Link to={`/console/generations/${r.id}`}>
                      <When at={r.at} />
                    </Link>{' '}
                    {r.model}
                    {r.promptVersion != null && ` · prompt v${r.promptVersion}`} · <Badge value={r.status} />
                  </li>
                ))}
              </ul>
            </>
          )}
          {admin && g.operation === 'chat' && <Replay generation={g} onReplayed={reload} />}
        </>
      )}
    </section>
  );
}

interface PromptVersion {
  name: string;
  version: number;
  current: boolean;
  builtIn: boolean;
  comment: string | null;
}
interface ReplayResult {
  original: {
    id: string;
    model: string;
    promptVersion: number | null;
    output: string | null;
    status: string;
  };
  replay: {
    id: string;
    model: string;
    promptVersion: number | null;
    output: string | null;
    status: string;
    errorType: string | null;
    errorMessage: string | null;
    totalTokens: number;
    costUsd: number;
    latencyMs: number;
  };
}

/** Whether a failure says the graph has no such field (the prompts API is not deployed). */
const missingApi = (error: unknown) =>
  error instanceof GraphQLFailure &&
  (error.code === 'GRAPHQL_VALIDATION_FAILED' || /Cannot query field/.test(error.message));

/** Runs a chat again with a chosen prompt version and model; shows both outputs side by side. */
function Replay({ generation, onReplayed }: { generation: GenerationView; onReplayed(): void }) {
  const { graph } = useConsole();
  const prompts = useQuery<{ prompts: PromptVersion[] }>(PROMPTS, { name: generation.promptName });
  const [version, setVersion] = useState('');
  const [model, setModel] = useState('');
  const [running, setRunning] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const [result, setResult] = useState<ReplayResult>();
  if (prompts.error !== undefined && missingApi(prompts.error))
    return (
      <section aria-labelledby="replay-title" class="replay">
        <h2 id="replay-title">Replay</h2>
        <p class="hint">This graph has no prompts API yet (replayGeneration): replay is not available.</p>
      </section>
    );
  const run = async (e: Event) => {
    e.preventDefault();
    setRunning(true);
    setFailure(undefined);
    try {
      const data = await graph.request<{ replayGeneration: ReplayResult }>(REPLAY, {
        id: generation.id,
        promptVersion: version === '' ? undefined : Number(version),
        model: model.trim() || undefined,
      });
      setResult(data.replayGeneration);
      onReplayed();
    } catch (error) {
      setFailure(error);
    } finally {
      setRunning(false);
    }
  };
  // Versions of the prompt this call used (an untemplated call can change only its model).
  const versions = generation.promptName
    ? (prompts.data?.prompts ?? []).filter((p) => p.name === generation.promptName)
    : [];
  return (
    <section aria-labelledby="replay-title" class="replay">
      <h2 id="replay-title">Replay</h2>
      <p class="hint">
        Runs this call again as a new generation linked to this one, with the recorded variables rendered by
        the chosen prompt version and sent to the chosen model.
      </p>
      {prompts.error !== undefined && <ErrorNote error={prompts.error} retry={prompts.reload} />}
      <form onSubmit={run} aria-label="replay">
        <label>
          Prompt version
          <select value={version} onChange={(e) => setVersion((e.target as HTMLSelectElement).value)}>
            <option value="">
              as recorded{generation.promptVersion != null ? ` (v${generation.promptVersion})` : ''}
            </option>
            {versions.map((p) => (
              <option value={String(p.version)}>
                v{p.version}
                {p.builtIn ? ' (built in)' : ''}
                {p.current ? ' (current)' : ''}
                {p.comment ? ` – ${p.comment}` : ''}
              </option>
            ))}
          </select>
        </label>
        <label>
          Model (empty: {generation.model})
          <input value={model} onInput={(e) => setModel((e.target as HTMLInputElement).value)} />
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={running}>
            {running ? 'Replaying…' : 'Replay'}
          </button>
        </div>
      </form>
      {failure !== undefined && <ErrorNote error={failure} />}
      {result && (
        <div class="side-by-side" data-testid="replay-result">
          <section aria-labelledby="replay-old">
            <h3 id="replay-old">
              Original · {result.original.model}
              {result.original.promptVersion != null && ` · v${result.original.promptVersion}`}
            </h3>
            <Text value={result.original.output ?? '(no output)'} label="original output" />
          </section>
          <section aria-labelledby="replay-new">
            <h3 id="replay-new">
              Replay · {result.replay.model}
              {result.replay.promptVersion != null && ` · v${result.replay.promptVersion}`}{' '}
              <Badge value={result.replay.status} />
            </h3>
            <Text
              value={
                result.replay.output ??
                `${result.replay.errorType ?? 'error'}: ${result.replay.errorMessage ?? ''}`
              }
              label="replay output"
            />
            <p class="hint">
              {tokens(result.replay.totalTokens)} · {usd(result.replay.costUsd)} ·{' '}
              {ms(result.replay.latencyMs)} ·{' '}
              <Link to={`/console/generations/${result.replay.id}`}>open the replay</Link>
            </p>
          </section>
        </div>
      )}
    </section>
  );
}
