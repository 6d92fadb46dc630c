// One replica of a service as a real process (the entry points `npm start`'s supervisor forks; without
// the OpenTelemetry --import, whose span store would write every span to the database): started,
// waited for (its /ready; a worker's on its probe port), SIGKILLed and started again.
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort, waitForReady } from './free-port.ts';

/** How long a replica may take to become ready (the machine is shared and small). */
export const REPLICA_START_TIMEOUT_MS = 300_000;
/** Start attempts when the chosen port was taken meanwhile (EADDRINUSE). */
const PORT_ATTEMPTS = 5;
/** Lines of a replica's output kept for error messages. */
const KEPT_LINES = 40;

/** What a replica runs. */
export interface ReplicaSpec {
  /** Kind shared by its siblings: `gateway`, `agent`, `worker agent-runner`, … */
  kind: string;
  index: number;
  entry: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  /** How it is told its HTTP port: a variable (`AGENT_PORT`) or an argument (a worker's `--probe-port`). */
  port: { variable: string } | { arg: string };
}

/** A started replica. */
export class Replica {
  readonly spec: ReplicaSpec;
  #child: ChildProcess | undefined;
  #port: number | undefined;
  #output: string[] = [];
  /** Times it was SIGKILLed. */
  kills = 0;

  constructor(spec: ReplicaSpec) {
    this.spec = spec;
  }

  get name(): string {
    return `${this.spec.kind} #${this.spec.index + 1}`;
  }

  /** Its origin (a worker's: its probes). */
  get origin(): string {
    if (this.#port === undefined) throw new Error(`${this.name} has not started`);
    return `http://127.0.0.1:${this.#port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts it (on the port it had, when restarted) and waits until it is ready. */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.#port ??= await freePort();
      try {
        await this.#startOnce();
        return;
      } catch (error) {
        const taken = this.#output.some((line) => line.includes('EADDRINUSE'));
        if (!taken || attempt >= PORT_ATTEMPTS) throw error;
        this.#port = undefined;
      }
    }
  }

  async #startOnce(): Promise<void> {
    const env = { ...this.spec.env };
    const args = [...(this.spec.args ?? [])];
    if ('variable' in this.spec.port) env[this.spec.port.variable] = String(this.#port);
    else args.push(this.spec.port.arg, String(this.#port));
    this.#output = [];
    const child = spawn(process.execPath, [this.spec.entry, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        this.#output.push(line);
        if (this.#output.length > KEPT_LINES) this.#output.shift();
        if (process.env.WIDGETDC_SCALE_LOG === '1') process.stderr.write(`[${this.name}] ${line}\n`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const alive = () => child.exitCode === null && child.signalCode === null;
    try {
      await waitForReady(`${this.origin}/ready`, REPLICA_START_TIMEOUT_MS, alive);
    } catch (error) {
      if (alive()) child.kill('SIGKILL');
      throw new Error(
        `${this.name} did not start: ${error instanceof Error ? error.message : String(error)}\n${this.#output.join('\n')}`,
      );
    }
  }

  /** SIGKILLs it and waits until it is gone. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    this.kills++;
    await exited;
  }

  /** Stops it with SIGTERM (SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
