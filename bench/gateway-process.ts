// A gateway under test in a child process of its own (as deployed), so its CPU time is its own:
// read from /proc before and after the measured phase.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type GatewaySpec, PROFILE_ENV, SPEC_ENV } from './servers/spec.ts';

/** A gateway child process. */
export interface GatewayProcess {
  readonly url: string;
  readonly pid: number;
  /** Starts or stops CPU profiling (only when started with `profileDir`); resolves once the child has done it. */
  profile(step: 'start' | 'stop'): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  /** Entry file under bench/servers/. */
  entry: 'ours.ts' | 'hive.ts';
  /** Another checkout of this repository whose bench/servers/<entry> (and so whose gateway code) runs instead. */
  root?: string;
  args?: string[];
  spec: GatewaySpec;
  /** Folder for V8 CPU profiles of the process, one per profiled phase (see {@link GatewayProcess.profile}). */
  profileDir?: string;
  /** Extra environment of the child (e.g. a configuration variable under test). */
  env?: Record<string, string>;
}

const START_TIMEOUT_MS = 60_000;

/** Starts a gateway process and waits until it listens. */
export function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const child: ChildProcess = fork(
    options.root
      ? pathToFileURL(join(options.root, 'bench', 'servers', options.entry))
      : new URL(`./servers/${options.entry}`, import.meta.url),
    options.args ?? [],
    {
      env: {
        ...process.env,
        ...options.env,
        [SPEC_ENV]: JSON.stringify(options.spec),
        ...(options.profileDir ? { [PROFILE_ENV]: options.profileDir } : {}),
        APOLLO_TELEMETRY_DISABLED: '1',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${options.entry} did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.entry} exited with code ${code} before listening`));
    });
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type !== 'ready' || !message.url) return;
      clearTimeout(timer);
      resolve({
        url: message.url,
        pid: child.pid!,
        profile: (step) =>
          options.profileDir
            ? new Promise<void>((done) => {
                const onMessage = (reply: { type?: string }) => {
                  if (reply.type !== `profile-${step}-done`) return;
                  child.off('message', onMessage);
                  done();
                };
                child.on('message', onMessage);
                child.send({ type: `profile-${step}` });
              })
            : Promise.resolve(),
        stop: async () => {
          if (child.exitCode === null && child.connected) child.send({ type: 'stop' });
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}
