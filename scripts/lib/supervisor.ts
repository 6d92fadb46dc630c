import { type ChildProcess, fork } from 'node:child_process';
import type { Logger } from '#kernel/logger.ts';

/** How long a service may take to announce it is ready. */
export const START_TIMEOUT_MS = 60_000;
/** How long a service may take to exit after SIGTERM before it is killed. */
export const STOP_TIMEOUT_MS = 15_000;

/** A service process started by the supervisor. */
export interface ServiceProcess {
  name: string;
  /** Where it serves; '' for a process that serves nothing (a worker). */
  url: string;
  child: ChildProcess;
}

/** How {@link Supervisor.start} runs a process. */
export interface StartOptions {
  /** Command-line arguments of the entry point. */
  args?: string[];
  /** For processes that send no `ready` message: ready once their stderr shows a line matching this. */
  readyLine?: RegExp;
}

/** Starts and stops the platform's service processes; a child outlives neither it nor its failure. */
export class Supervisor {
  readonly #logger: Logger;
  /** Every forked child, ready or not, in start order. */
  readonly #children: { name: string; child: ChildProcess }[] = [];
  #stopping = false;
  /** Called when a service exits while the platform should be running. */
  onUnexpectedExit: (name: string, code: number | null) => void = () => {};

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /**
   * Forks `entry` (a TypeScript module, run by this same Node) and waits for its `ready` message, or,
   * for a process that announces none (a worker), for a log line matching `options.readyLine`.
   */
  start(
    name: string,
    entry: string,
    env: NodeJS.ProcessEnv,
    options: StartOptions = {},
  ): Promise<ServiceProcess> {
    const { readyLine } = options;
    const child = fork(entry, options.args ?? [], {
      env,
      stdio: ['ignore', 'inherit', readyLine ? 'pipe' : 'inherit', 'ipc'],
      execPath: process.execPath,
    });
    const entryRecord = { name, child };
    this.#children.push(entryRecord);
    let ready = false;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name} did not become ready within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const becomeReady = (url: string) => {
        if (ready) return;
        clearTimeout(timer);
        ready = true;
        resolve({ name, url, child });
      };
      child.on('message', (message: { type?: string; url?: string }) => {
        if (message.type === 'ready' && message.url) becomeReady(message.url);
      });
      if (readyLine && child.stderr) {
        // The log still reaches the terminal; it is only watched for the readiness line.
        let pending = '';
        child.stderr.on('data', (chunk: Buffer) => {
          process.stderr.write(chunk);
          if (ready) return;
          pending = (pending + chunk.toString()).slice(-8_192);
          if (readyLine.test(pending)) becomeReady('');
        });
      }
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.#children.splice(this.#children.indexOf(entryRecord), 1);
        if (!ready) {
          reject(
            new Error(
              `${name} exited before it was ready (${signal ?? `exit code ${code}`}); see its log above`,
            ),
          );
          return;
        }
        if (!this.#stopping) this.onUnexpectedExit(name, code);
      });
    });
  }

  /** Stops services in reverse start order (gateway first), killing any that hang. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const service of [...this.#children].reverse()) {
      await stopChild(service, this.#logger);
    }
  }
}

async function stopChild(service: { name: string; child: ChildProcess }, logger: Logger): Promise<void> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    logger.warn(`${service.name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
    child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
