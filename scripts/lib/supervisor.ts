import { type ChildProcess, fork } from 'node:child_process';
import type { Logger } from '#kernel/logger.ts';
import { TELEMETRY_REGISTER_MODULE } from '#kernel/telemetry/sdk.ts';

/** How long a service may take to announce it is ready. */
export const START_TIMEOUT_MS = 60_000;
/** How long a service may take to exit after SIGTERM before it is killed. */
export const STOP_TIMEOUT_MS = 15_000;

/** How the supervisor restarts a service that crashed after it was ready. */
export interface RestartPolicy {
  /** Wait before the first restart; doubled for each further crash within the window. */
  initialDelayMs: number;
  /** Cap of the wait. */
  maxDelayMs: number;
  /** Crashes of one service within `windowMs` that are still restarted; one more and it gives up. */
  maxCrashes: number;
  windowMs: number;
}

/** Restart policy of `npm start`: 0.5 s, 1 s, 2 s … at most 30 s; five crashes in a minute are restarted, the sixth is not. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxCrashes: 5,
  windowMs: 60_000,
};

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

/** What the supervisor reports about a crash it restarts. */
export interface RestartReport {
  name: string;
  /** How the process ended. */
  exit: string;
  /** Crashes of this service within the window, this one included. */
  crashes: number;
  /** Wait before the restart. */
  delayMs: number;
}

/** Options of {@link Supervisor}. */
export interface SupervisorOptions {
  restart?: RestartPolicy;
  /** Clock for the crash window (tests). */
  now?: () => number;
}

interface Service {
  name: string;
  entry: string;
  /** Read again at each restart, so a launcher can pin what the first start chose (ports). */
  env: NodeJS.ProcessEnv;
  options: StartOptions;
  child: ChildProcess | undefined;
  crashTimes: number[];
  restarts: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * Starts, restarts and stops the platform's service processes. A service that crashes after it
 * was ready is restarted with exponential backoff (capped); after too many crashes within a window
 * the supervisor gives up on it and calls {@link onGiveUp}. A child outlives neither the supervisor
 * nor its failure.
 */
export class Supervisor {
  readonly #logger: Logger;
  readonly #policy: RestartPolicy;
  readonly #now: () => number;
  /** Every service, in start order. */
  readonly #services: Service[] = [];
  #stopping = false;
  /** Called before each restart. */
  onRestart: (report: RestartReport) => void = () => {};
  /** Called when a restarted service is ready again. */
  onRestarted: (service: ServiceProcess, restarts: number) => void = () => {};
  /** Called when a service crashed more often than the policy allows; it is not restarted again. */
  onGiveUp: (name: string, crashes: number, windowMs: number) => void = () => {};

  constructor(logger: Logger, options: SupervisorOptions = {}) {
    this.#logger = logger;
    this.#policy = options.restart ?? DEFAULT_RESTART_POLICY;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Forks `entry` (a TypeScript module, run by this same Node) and waits for its `ready` message, or,
   * for a process that announces none (a worker), for a log line matching `options.readyLine`.
   * A service that exits before its first start is ready is not restarted: the promise rejects.
   */
  start(
    name: string,
    entry: string,
    env: NodeJS.ProcessEnv,
    options: StartOptions = {},
  ): Promise<ServiceProcess> {
    const service: Service = {
      name,
      entry,
      env,
      options,
      child: undefined,
      crashTimes: [],
      restarts: 0,
      restartTimer: undefined,
    };
    this.#services.push(service);
    return this.#spawn(service);
  }

  /** Restarts so far, by service name. */
  restartCounts(): Record<string, number> {
    return Object.fromEntries(this.#services.map((s) => [s.name, s.restarts]));
  }

  /** The running child of a service, if any. */
  childOf(name: string): ChildProcess | undefined {
    return this.#services.find((s) => s.name === name)?.child;
  }

  #spawn(service: Service): Promise<ServiceProcess> {
    const { name, options } = service;
    const { readyLine } = options;
    const child = fork(service.entry, options.args ?? [], {
      env: service.env,
      stdio: ['ignore', 'inherit', readyLine ? 'pipe' : 'inherit', 'ipc'],
      execPath: process.execPath,
      // OpenTelemetry starts before the service loads what it instruments.
      execArgv: [...process.execArgv, '--import', TELEMETRY_REGISTER_MODULE],
    });
    service.child = child;
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
        if (service.child === child) service.child = undefined;
        const exit = signal ?? `exit code ${code}`;
        if (!ready) {
          reject(new Error(`${name} exited before it was ready (${exit}); see its log above`));
          return;
        }
        if (!this.#stopping) this.#crashed(service, exit);
      });
    });
  }

  /** Restarts a crashed service after its backoff, or gives up on it. */
  #crashed(service: Service, exit: string): void {
    const now = this.#now();
    const { windowMs, maxCrashes, initialDelayMs, maxDelayMs } = this.#policy;
    service.crashTimes = [...service.crashTimes.filter((t) => now - t < windowMs), now];
    const crashes = service.crashTimes.length;
    if (crashes > maxCrashes) {
      this.#logger.error(
        `${service.name} exited unexpectedly (${exit}): ${crashes} crashes within ${windowMs / 1000} s, ` +
          `more than the ${maxCrashes} that are restarted; giving up on it`,
      );
      this.onGiveUp(service.name, crashes, windowMs);
      return;
    }
    const delayMs = Math.min(initialDelayMs * 2 ** (crashes - 1), maxDelayMs);
    this.#logger.warn(
      `${service.name} exited unexpectedly (${exit}); restarting it in ${(delayMs / 1000).toFixed(1)} s ` +
        `(crash ${crashes} of at most ${maxCrashes} within ${windowMs / 1000} s)`,
    );
    this.onRestart({ name: service.name, exit, crashes, delayMs });
    service.restartTimer = setTimeout(() => {
      service.restartTimer = undefined;
      if (this.#stopping) return;
      service.restarts += 1;
      this.#spawn(service).then(
        (running) => {
          this.#logger.info(`${service.name} is running again (restart ${service.restarts})`);
          this.onRestarted(running, service.restarts);
        },
        // A restart that fails before it is ready is one more crash.
        (error: unknown) => {
          if (this.#stopping) return;
          this.#crashed(service, error instanceof Error ? error.message : String(error));
        },
      );
    }, delayMs);
  }

  /** Stops services in reverse start order (gateway first), killing any that hang; pending restarts are dropped. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    for (const service of this.#services) clearTimeout(service.restartTimer);
    for (const service of [...this.#services].reverse()) {
      if (service.child) await stopChild(service.name, service.child, this.#logger);
    }
    const restarted = this.#services.filter((s) => s.restarts > 0);
    if (restarted.length > 0) {
      this.#logger.info(`restarts: ${restarted.map((s) => `${s.name} ${s.restarts}`).join(', ')}`);
    }
  }
}

async function stopChild(name: string, child: ChildProcess, logger: Logger): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    logger.warn(`${name} did not stop within ${STOP_TIMEOUT_MS / 1000} s; killing it`);
    child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}
