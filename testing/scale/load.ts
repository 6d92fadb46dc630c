// Steady write load through autocannon: createTask mutations with one step (a note), each
// acknowledged task id kept, every failure counted the way the client saw it.
import autocannon from 'autocannon';

/** The mutation of the load: a task whose one step writes a note (a write, then an event, then a write). */
export const CREATE_TASK = 'mutation Load($input: CreateTaskInput!) { createTask(input: $input) { id } }';

/** What a load run saw. */
export interface LoadRun {
  /** Ids of the tasks the client was told were created. */
  acknowledged: string[];
  /** Responses that were not a created task (non-2xx, GraphQL errors) and requests that failed outright. */
  errors: number;
  /** The first few error descriptions. */
  samples: string[];
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
}

/** A load that runs until {@link RunningLoad.stop}. */
export interface RunningLoad {
  readonly acknowledged: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  stop(): Promise<LoadRun>;
}

/** Starts `connections` autocannon connections posting {@link CREATE_TASK} to `url`. */
export function startLoad(options: {
  url: string;
  token: string;
  connections: number;
  label: string;
}): RunningLoad {
  const acknowledged: string[] = [];
  const samples: string[] = [];
  let errors = 0;
  const fail = (why: string) => {
    errors++;
    if (samples.length < 5) samples.push(why);
  };
  const body = JSON.stringify({
    query: CREATE_TASK,
    variables: {
      input: {
        title: options.label,
        steps: [{ tool: 'notes.create', input: { title: options.label, body: 'scale' } }],
      },
    },
  });
  const started = performance.now();
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    // stopped by stop(); a bound so that a forgotten load ends anyway
    duration: 600,
    timeout: 20,
    requests: [
      {
        method: 'POST',
        path: '/graphql',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body,
        onResponse: (status: number, text: string) => {
          if (status !== 200) return fail(`${status} ${text.slice(0, 160)}`);
          try {
            const parsed = JSON.parse(text) as {
              data?: { createTask?: { id?: string } };
              errors?: unknown[];
            };
            const id = parsed.data?.createTask?.id;
            if (id && !parsed.errors) acknowledged.push(id);
            else fail(text.slice(0, 200));
          } catch {
            fail(`not JSON: ${text.slice(0, 160)}`);
          }
        },
      },
    ],
  });
  instance.on('reqError', (error: Error) => fail(`request failed: ${error.message}`));
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance.once('done', resolve);
    instance.once('error', reject);
  });
  return {
    get acknowledged() {
      return acknowledged.length;
    },
    get errors() {
      return errors;
    },
    get firstError() {
      return samples[0];
    },
    async stop() {
      instance.stop();
      const result = await done;
      const seconds = (performance.now() - started) / 1000;
      return {
        acknowledged,
        errors,
        samples,
        requests: result.requests.total,
        seconds,
        rps: acknowledged.length / seconds,
        p50: result.latency.p50,
        p99: result.latency.p99,
      };
    },
  };
}

/** Runs the load for `seconds` and returns what it saw. */
export async function runLoad(options: {
  url: string;
  token: string;
  connections: number;
  label: string;
  seconds: number;
}): Promise<LoadRun> {
  const load = startLoad(options);
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  return load.stop();
}
