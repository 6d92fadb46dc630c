// CPU time by process kind, read from /proc (Linux): how a benchmark's load spreads over the
// machine's processes, so a run can show what each event costs and where.
import { readdirSync, readFileSync } from 'node:fs';

/** CPU milliseconds used so far, by label. */
export type CpuSample = Map<string, number>;

const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * CPU milliseconds (user + system) of every process, labelled by `label(pid, command)`; processes
 * it labels undefined are left out. Empty where /proc is not readable.
 */
export function sampleCpu(label: (pid: number, command: string) => string | undefined): CpuSample {
  const sample: CpuSample = new Map();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return sample;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const close = stat.lastIndexOf(')');
    const command = stat.slice(stat.indexOf('(') + 1, close);
    const name = label(Number(pid), command);
    if (!name) continue;
    const fields = stat.slice(close + 2).split(' ');
    const ms = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
    sample.set(name, (sample.get(name) ?? 0) + ms);
  }
  return sample;
}

/** `after - before` per label, as CPU microseconds per event. */
export function cpuPerEvent(before: CpuSample, after: CpuSample, events: number): Map<string, number> {
  const result = new Map<string, number>();
  for (const [name, ms] of after) result.set(name, ((ms - (before.get(name) ?? 0)) * 1000) / events);
  return result;
}
