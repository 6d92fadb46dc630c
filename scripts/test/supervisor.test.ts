import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '#kernel/logger.ts';
import { type RestartReport, type ServiceProcess, Supervisor } from '../lib/supervisor.ts';

const SERVICE = join(import.meta.dirname, 'fixtures', 'crashing-service.ts');
const POLICY = { initialDelayMs: 20, maxDelayMs: 50, maxCrashes: 3, windowMs: 60_000 };

let dir: string;
let countFile: string;
let logged: string[];

function supervisor(now?: () => number): Supervisor {
  const logger = createLogger('start', { level: 'info', write: (line) => logged.push(line) });
  return new Supervisor(logger, { restart: POLICY, ...(now ? { now } : {}) });
}

const env = (crashes: number | 'always') => ({
  ...process.env,
  NODE_OPTIONS: '',
  COUNT_FILE: countFile,
  CRASHES: String(crashes),
});
const starts = async () => Number(await readFile(countFile, 'utf8'));
const alive = (pid: number | undefined) => {
  try {
    process.kill(pid!, 0);
    return true;
  } catch {
    return false;
  }
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wtdc-supervisor-'));
  countFile = join(dir, 'starts');
  logged = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('supervisor', () => {
  it('restarts a crashed service with doubling, capped backoff and reports each restart', async () => {
    const s = supervisor();
    const reports: RestartReport[] = [];
    s.onRestart = (report) => reports.push(report);
    const back = new Promise<[ServiceProcess, number]>((resolve) => {
      s.onRestarted = (service, restarts) => {
        if (restarts === 3) resolve([service, restarts]);
      };
    });
    const gaveUp: string[] = [];
    s.onGiveUp = (name) => gaveUp.push(name);
    try {
      await s.start('crashing', SERVICE, env(3));
      const [service] = await back;
      expect(service.url).toBe('http://127.0.0.1/start-4');
      expect(alive(service.child.pid)).toBe(true);
      expect(reports).toEqual([
        { name: 'crashing', exit: 'exit code 3', crashes: 1, delayMs: 20 },
        { name: 'crashing', exit: 'exit code 3', crashes: 2, delayMs: 40 },
        { name: 'crashing', exit: 'exit code 3', crashes: 3, delayMs: 50 },
      ]);
      expect(s.restartCounts()).toEqual({ crashing: 3 });
      expect(gaveUp).toEqual([]);
      expect(logged.join('\n')).toMatch(
        /crashing exited unexpectedly \(exit code 3\); restarting it in 0\.0 s/,
      );
      expect(logged.join('\n')).toContain('crashing is running again (restart 3)');
    } finally {
      await s.stopAll();
    }
    expect(logged.join('\n')).toContain('restarts: crashing 3');
    expect(alive(s.childOf('crashing')?.pid)).toBe(false);
  });

  it('gives up after more crashes within the window than the policy restarts', async () => {
    const s = supervisor();
    const gaveUp = new Promise<[string, number]>((resolve) => {
      s.onGiveUp = (name, crashes) => resolve([name, crashes]);
    });
    try {
      await s.start('crashing', SERVICE, env('always'));
      expect(await gaveUp).toEqual(['crashing', 4]);
      expect(await starts()).toBe(4);
      expect(s.childOf('crashing')).toBeUndefined();
      expect(logged.join('\n')).toMatch(
        /4 crashes within 60 s, more than the 3 that are restarted; giving up/,
      );
    } finally {
      await s.stopAll();
    }
  });

  it('counts only the crashes within the window', async () => {
    let clock = 0;
    const s = supervisor(() => clock);
    const gaveUp: string[] = [];
    s.onGiveUp = (name) => gaveUp.push(name);
    const reports: RestartReport[] = [];
    // Each crash happens a window after the one before, so none is ever the second within one.
    s.onRestart = (report) => {
      reports.push(report);
      clock += POLICY.windowMs;
    };
    const back = new Promise<void>((resolve) => {
      s.onRestarted = (_service, restarts) => {
        if (restarts === 5) resolve();
      };
    });
    try {
      await s.start('crashing', SERVICE, env(5));
      await back;
      expect(reports.map((r) => [r.crashes, r.delayMs])).toEqual([
        [1, 20],
        [1, 20],
        [1, 20],
        [1, 20],
        [1, 20],
      ]);
      expect(gaveUp).toEqual([]);
    } finally {
      await s.stopAll();
    }
  });

  it('restarts a service killed from outside, and stops it and any pending restart on stopAll', async () => {
    const s = supervisor();
    const back = new Promise<ServiceProcess>((resolve) => {
      s.onRestarted = (service) => resolve(service);
    });
    const first = await s.start('crashing', SERVICE, env(0));
    first.child.kill('SIGKILL');
    const second = await back;
    expect(second.child.pid).not.toBe(first.child.pid);
    expect(alive(second.child.pid)).toBe(true);

    const restarting = new Promise<void>((resolve) => {
      s.onRestart = () => resolve();
    });
    second.child.kill('SIGKILL');
    await restarting;
    await s.stopAll();
    // The restart that was due never happens.
    await new Promise((r) => setTimeout(r, POLICY.maxDelayMs * 4));
    expect(await starts()).toBe(2);
    expect(s.childOf('crashing')).toBeUndefined();
  });

  it('does not restart a service that fails before its first start is ready', async () => {
    const s = supervisor();
    await expect(
      s.start('broken', join(dir, 'missing.ts'), { ...process.env, NODE_OPTIONS: '' }),
    ).rejects.toThrow(/broken exited before it was ready \(exit code 1\)/);
    await s.stopAll();
    expect(s.restartCounts()).toEqual({ broken: 0 });
  });
});
