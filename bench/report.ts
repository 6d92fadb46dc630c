import type { LoadResult } from './load.ts';

const out = (line = '') => process.stdout.write(`${line}\n`);

/** One measured scenario: its load figures and, for a gateway, its process's CPU per request. */
export interface ScenarioResult extends LoadResult {
  name: string;
  client: string;
  /** CPU milliseconds (user + system) of the gateway process per request; absent for the direct path. */
  cpuMsPerRequest?: number;
}

/** Changes measured one at a time (ADR 0009); printed under every table so a run says what it measured. */
export const NOTES = [
  'gateway CPU ms/req: /proc utime+stime of the gateway process over the measured phase / requests',
  'in-flight deduplication is off everywhere (ours has none; Hive: deduplicateInflightRequests: false)',
  'ours/direct ratios use the same client (bench loop, fetch keep-alive); ours/Hive ratios use autocannon',
];

/** Prints the comparison table and the ratios the targets are stated in. */
export function report(results: ScenarioResult[]): void {
  const cells = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(20) : i === 1 ? v.padEnd(11) : v.padStart(9))).join(' ');
  out();
  out(
    cells([
      'scenario',
      'client',
      'req/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'CPU ms/req',
      'requests',
      'errors',
    ]),
  );
  for (const r of results) {
    out(
      cells([
        r.name,
        r.client,
        r.rps.toFixed(1),
        r.p50.toFixed(2),
        r.p95.toFixed(2),
        r.p99.toFixed(2),
        r.max.toFixed(2),
        r.cpuMsPerRequest === undefined ? '-' : r.cpuMsPerRequest.toFixed(2),
        String(r.requests),
        String(r.errors),
      ]),
    );
  }
  const find = (name: string) => results.find((r) => r.name === name);
  const ours = find('ours');
  const oursLoop = find('ours (loop)');
  const direct = find('direct (2 hops)');
  out();
  for (const peer of ['hive', 'hive-jwt']) {
    const hive = find(peer);
    if (ours && hive) {
      out(
        `ours / ${peer}: req/s ${(ours.rps / hive.rps).toFixed(2)}x, p50 ${(ours.p50 / hive.p50).toFixed(2)}x` +
          (ours.cpuMsPerRequest && hive.cpuMsPerRequest
            ? `, CPU/req ${(ours.cpuMsPerRequest / hive.cpuMsPerRequest).toFixed(2)}x`
            : ''),
      );
    }
  }
  const baseline = find('ours (baseline)');
  if (ours && baseline) {
    out(
      `ours / baseline: req/s ${(ours.rps / baseline.rps).toFixed(2)}x, p50 ${(ours.p50 / baseline.p50).toFixed(2)}x` +
        (ours.cpuMsPerRequest && baseline.cpuMsPerRequest
          ? `, CPU/req ${(ours.cpuMsPerRequest / baseline.cpuMsPerRequest).toFixed(2)}x (${(100 * (1 - ours.cpuMsPerRequest / baseline.cpuMsPerRequest)).toFixed(0)}% less)`
          : ''),
    );
  }
  if (oursLoop && direct) {
    out(
      `ours / direct: p50 ${(oursLoop.p50 / direct.p50).toFixed(2)}x, req/s ${(oursLoop.rps / direct.rps).toFixed(2)}x (direct req/s / ours ${(direct.rps / oursLoop.rps).toFixed(2)}x)`,
    );
  }
  out();
  out('notes:');
  for (const note of NOTES) out(`  - ${note}`);
}
