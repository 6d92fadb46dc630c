import type { LoadResult } from './load.ts';

const out = (line = '') => process.stdout.write(`${line}\n`);

/** Prints the comparison table and the two overhead ratios. */
export function report(gateway: LoadResult, direct: LoadResult): void {
  const cells = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(18) : v.padStart(i === values.length - 1 ? 7 : 9))).join(' ');
  const row = (label: string, r: LoadResult) =>
    cells([
      label,
      r.rps.toFixed(1),
      r.p50.toFixed(2),
      r.p95.toFixed(2),
      r.p99.toFixed(2),
      r.max.toFixed(2),
      String(r.requests),
      String(r.errors),
    ]);
  out();
  out(cells(['scenario', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'requests', 'errors']));
  out(row('gateway', gateway));
  out(row('direct (2 hops)', direct));
  out();
  out(`overhead: gateway p50 / direct p50 = ${(gateway.p50 / direct.p50).toFixed(2)}x`);
  out(`          direct rps / gateway rps = ${(direct.rps / gateway.rps).toFixed(2)}x`);
  out(`(latency histogram: ${gateway.histogram})`);
}
