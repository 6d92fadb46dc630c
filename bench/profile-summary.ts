// Summarises V8 CPU profiles (node --cpu-prof, as `bench:gateway --profile <scenario>` writes them):
// self time by package and by function, so a run says where the gateway spends its CPU.
// Run: node bench/profile-summary.ts <folder-or-.cpuprofile> [--top 20]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The package a script URL belongs to: `node_modules/<pkg>`, `node:` internals, or our own folder. */
export function packageOf(url: string): string {
  if (url === '') return '(native / idle / gc)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/').slice(0, 2).join('/')}`;
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  const ours = /\/(kernel|gateway|subgraphs|events|bench|testing)\/(.*)$/.exec(url);
  return ours ? `${ours[1]}/${ours[2]}` : url;
}

function summarise(files: string[], top: number): void {
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const node = nodes.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!node) return;
      const { functionName, url, lineNumber } = node.callFrame;
      if (functionName === '(idle)' || functionName === '(program)') return;
      // The inspector session that records the profile shows up as node:inspector: not the gateway's work.
      if (url.startsWith('node:inspector')) return;
      total += us;
      const pkg = functionName === '(garbage collector)' ? '(garbage collector)' : packageOf(url);
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
      const fn = `${functionName || '(anonymous)'} ${packageOf(url)}:${lineNumber + 1}`;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    });
  }
  const print = (title: string, map: Map<string, number>) => {
    process.stdout.write(`\n${title} (self time, % of ${(total / 1000).toFixed(0)} ms busy)\n`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(6)}%  ${name}\n`);
    }
  };
  print('by package', byPackage);
  print('by function', byFunction);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '20' } },
});
const target = positionals[0];
if (!target) throw new Error('usage: node bench/profile-summary.ts <folder-or-.cpuprofile> [--top 20]');
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];
if (files.length === 0) throw new Error(`no .cpuprofile file in ${target}`);
summarise(files, Number(values.top));
