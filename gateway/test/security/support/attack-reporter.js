// Jest reporter of the attack suite: every security test file writes its tally (attacks, leaks,
// refusals) to a folder named by this run; at the end this sums them and prints
// "N attacks, 0 leaks" to stderr (stdout may carry --json output). Silent when no attack ran.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Must match RUN_DIR_VARIABLE in attack.ts. */
const RUN_DIR_VARIABLE = 'WIDGETDC_ATTACK_RUN_DIR';

/** Sums the attack tallies of one Jest run and prints the summary line. */
export default class AttackReporter {
  constructor() {
    // Set before the workers start, so each inherits the run's folder.
    this.dir = join(tmpdir(), `widgetdc-attacks-${process.pid}-${Date.now()}`);
    process.env[RUN_DIR_VARIABLE] = this.dir;
  }

  onRunStart() {
    mkdirSync(this.dir, { recursive: true });
  }

  onRunComplete() {
    let files = [];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch {
      return;
    }
    const tallies = files.map((f) => JSON.parse(readFileSync(join(this.dir, f), 'utf8')));
    rmSync(this.dir, { recursive: true, force: true });
    if (tallies.length === 0) return;
    const sum = (pick) => tallies.reduce((n, t) => n + pick(t), 0);
    const byProject = new Map();
    const byClass = new Map();
    for (const t of tallies) {
      byProject.set(t.project, (byProject.get(t.project) ?? 0) + t.attacks);
      for (const [cls, n] of Object.entries(t.byClass)) byClass.set(cls, (byClass.get(cls) ?? 0) + n);
    }
    const attacks = sum((t) => t.attacks);
    const leaks = sum((t) => t.leaks);
    const notRefused = sum((t) => t.notRefused);
    const internal = tallies.flatMap((t) => t.internalErrors.map((name) => `${t.project}: ${name}`));
    const lines = [
      '',
      `attack suite: ${[...byProject].map(([p, n]) => `${p} ${n}`).join(', ')}; by class: ${[...byClass]
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')}`,
      ...(notRefused > 0
        ? [`attack suite: ${notRefused} attacks were not refused as expected (see the failed tests)`]
        : []),
      ...(internal.length > 0
        ? [
            `attack suite: ${internal.length} attacks met an internal error: ${internal.slice(0, 20).join('; ')}`,
          ]
        : []),
      ...tallies.flatMap((t) => t.leaked.map((l) => `LEAK (${t.project}) ${l}`)),
      // The fuzz suite's own figures (its calls are counted among the attacks too).
      ...fuzzLines(tallies.filter((t) => t.fuzz)),
      `${attacks} attacks, ${leaks} leaks`,
      '',
    ];
    process.stderr.write(`${lines.join('\n')}\n`);
  }
}

/** "N calls, 0 5xx, 0 crashes, 0 unaudited" summed over the fuzz suite's tallies (none when it did not run). */
function fuzzLines(tallies) {
  if (tallies.length === 0) return [];
  const sum = (key) => tallies.reduce((n, t) => n + t.fuzz[key], 0);
  return [
    `${sum('calls')} calls, ${sum('fiveXx')} 5xx, ${sum('crashes')} crashes, ${sum('unaudited')} unaudited`,
  ];
}
