// The bench's own client: both scenarios (through the gateway, and the same two hops done by hand)
// share this code, so the ratio between them measures the servers and not two different clients.
// autocannon (autocannon-load.ts) drives the gateways; it cannot chain two hops to two origins.
import { createHistogram } from 'node:perf_hooks';

/** Where the bench sends its requests, and as whom. */
export interface Target {
  gatewayUrl: string;
  agentUrl: string;
  governanceUrl: string;
  token: string;
}

/** One task as both scenarios return it. */
export interface TaskView {
  id: string;
  title: string;
  status: string;
  approvals: { id: string; status: string }[];
}

/** The query measured through the gateway. */
export const GATEWAY_QUERY =
  'query { tasks(first: 20) { edges { node { id title status approvals { id status } } } } }';
/** First hop of the gateway's query plan, sent to the agent subgraph. */
export const AGENT_QUERY = 'query { tasks(first: 20) { edges { node { __typename id title status } } } }';
/** Second hop of the plan, sent to governance; representations travel as a variable, as the gateway sends them. */
export const ENTITIES_QUERY =
  'query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Task { approvals { id status } } } }';

type Edges<T> = { tasks: { edges: { node: T }[] } };

/** POSTs one GraphQL operation and returns its data; any HTTP or GraphQL error throws. */
export async function post<T>(
  url: string,
  token: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  // Global fetch keeps connections alive per origin, so N sequential workers reuse N sockets.
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (!res.ok || body.errors?.length || !body.data) {
    throw new Error(`${url} answered ${res.status}: ${JSON.stringify(body.errors ?? body).slice(0, 300)}`);
  }
  return body.data;
}

/** Scenario (a): one request to the gateway, which plans and performs both hops. */
export async function viaGateway(t: Target): Promise<TaskView[]> {
  const data = await post<Edges<TaskView>>(t.gatewayUrl, t.token, GATEWAY_QUERY);
  return data.tasks.edges.map((e) => e.node);
}

/** Scenario (b): the client performs the query plan itself, agent first, then governance `_entities`. */
export async function direct(t: Target): Promise<TaskView[]> {
  const first = await post<Edges<Omit<TaskView, 'approvals'> & { __typename: string }>>(
    t.agentUrl,
    t.token,
    AGENT_QUERY,
  );
  const tasks = first.tasks.edges.map((e) => e.node);
  // The gateway skips the second hop when there is nothing to resolve; so does this client.
  if (tasks.length === 0) return [];
  const second = await post<{ _entities: { approvals: TaskView['approvals'] }[] }>(
    t.governanceUrl,
    t.token,
    ENTITIES_QUERY,
    { representations: tasks.map((task) => ({ __typename: 'Task', id: task.id })) },
  );
  return tasks.map(({ __typename: _, ...task }, i) => ({
    ...task,
    approvals: second._entities[i]?.approvals ?? [],
  }));
}

/** The scenarios by name, so a worker thread can be told which one to run. */
export const SCENARIOS = { gateway: viaGateway, direct } as const;
/** A scenario name. */
export type ScenarioName = keyof typeof SCENARIOS;

/** Latency figures of one run, in milliseconds. */
export interface LoadResult {
  requests: number;
  errors: number;
  firstError?: string;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  histogram: string;
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  target: Target;
  scenario: ScenarioName;
  connections: number;
  warmupMs: number;
  durationMs: number;
  /** Called about once a second with the requests completed so far in the measured phase. */
  onTick?: (completed: number, phase: 'warmup' | 'measure') => void;
  /** Called as the measured phase starts (the bench samples the gateway's CPU then). */
  onMeasure?: () => void;
}

/** Latency recorder: node's own HDR histogram (nanosecond integers), no extra dependency. */
export function createRecorder() {
  const histogram = createHistogram({ lowest: 1, highest: 60_000_000_000, figures: 3 });
  return {
    kind: 'node:perf_hooks histogram',
    /** Records one latency in milliseconds. */
    record: (ms: number) => histogram.record(Math.max(1, Math.round(ms * 1e6))),
    /** The latency at percentile `p`, in milliseconds. */
    percentile: (p: number) => histogram.percentile(p) / 1e6,
    max: () => histogram.max / 1e6,
    count: () => histogram.count,
  };
}

/** Runs `connections` workers, each sending one scenario request after another: warm-up, then measured. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const work = SCENARIOS[options.scenario];
  const recorder = createRecorder();
  let phase: 'warmup' | 'measure' = 'warmup';
  let completed = 0;
  let errors = 0;
  let firstError: string | undefined;
  let stopAt = Date.now() + options.warmupMs;

  const loop = async () => {
    while (Date.now() < stopAt) {
      const started = performance.now();
      const inPhase = phase;
      try {
        await work(options.target);
      } catch (error) {
        if (inPhase === 'measure') errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
        continue;
      }
      // A request that straddles the phase change belongs to neither: it is dropped.
      if (inPhase === 'measure' && phase === 'measure') {
        recorder.record(performance.now() - started);
        completed++;
      }
    }
  };
  const run = () => Promise.all(Array.from({ length: options.connections }, loop));
  const ticker = setInterval(() => options.onTick?.(completed, phase), 1000);
  try {
    await run();
    phase = 'measure';
    options.onMeasure?.();
    const started = performance.now();
    stopAt = Date.now() + options.durationMs;
    await run();
    const seconds = (performance.now() - started) / 1000;
    return {
      requests: completed,
      errors,
      firstError,
      seconds,
      rps: completed / seconds,
      p50: recorder.percentile(50),
      p95: recorder.percentile(95),
      p99: recorder.percentile(99),
      max: recorder.max(),
      histogram: recorder.kind,
    };
  } finally {
    clearInterval(ticker);
  }
}
