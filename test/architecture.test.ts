// The import rules of the house (docs/adr/0011-the-house.md), checked on every file: a rule about
// imports is a check, not a hope.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const ALIASES: Record<string, string> = {
  '#kernel/': 'kernel/src/',
  '#events/': 'events/src/',
  '#contracts/': 'contracts/src/',
  '#testing/': 'testing/',
  '#llm/': 'llm/src/',
};
const SUBGRAPHS = readdirSync(join(ROOT, 'subgraphs'));

/** Every .ts file below `dir` (repository-relative), generated code and dependencies excluded. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(join(ROOT, path), { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) {
        if (!['node_modules', '__generated__', 'dist'].includes(entry.name)) walk(child);
      } else if (/\.tsx?$/.test(entry.name)) out.push(child);
    }
  };
  walk(dir);
  return out;
}

/** The repository files a source file imports (packages are left out). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)].map(
    (m) => m[1]!,
  );
  specs.push(...[...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!));
  const out: string[] = [];
  for (const spec of specs) {
    const alias = Object.keys(ALIASES).find((a) => spec.startsWith(a));
    if (alias) out.push(ALIASES[alias] + spec.slice(alias.length));
    else if (spec.startsWith('.')) out.push(relative(ROOT, resolve(ROOT, dirname(file), spec)));
  }
  return out;
}

/** Where a repository file belongs: `kernel`, `events`, `contracts`, `testing`, `gateway`, `subgraph:<name>`, … */
function areaOf(file: string): string {
  const [top, second] = file.split('/');
  if (top === 'kernel' && second === 'src') return 'kernel';
  if (top === 'events' && second === 'src') return 'events';
  if (top === 'contracts' && second === 'src') return 'contracts';
  if (top === 'gateway' && second === 'src') return 'gateway';
  if (top === 'console' && ['src', 'widget', 'examples'].includes(second ?? '')) return 'console-app';
  if (top === 'llm' && second === 'src') return 'llm';
  if (top === 'subgraphs' && file.split('/')[2] === 'src') return `subgraph:${second}`;
  return top ?? file;
}

/** What each production area may import besides itself. */
const ALLOWED: Record<string, (target: string) => boolean> = {
  kernel: () => false,
  events: (t) => t === 'kernel',
  contracts: (t) => t === 'events',
  gateway: (t) => ['kernel', 'events', 'contracts'].includes(t),
  testing: (t) => ['kernel', 'events'].includes(t),
  // The console runs in browsers: nothing of ours at run time (its tests and build script are not the bundle).
  'console-app': () => false,
  llm: (t) => t === 'kernel',
};

function violations(dir: string): string[] {
  const found: string[] = [];
  for (const file of sources(dir)) {
    const from = areaOf(file);
    for (const target of importsOf(file)) {
      const to = areaOf(target);
      if (to === from) continue;
      const allowed = from.startsWith('subgraph:')
        ? ['kernel', 'events', 'contracts', 'llm'].includes(to)
        : ALLOWED[from]?.(to);
      if (!allowed) found.push(`${file} (${from}) imports ${target} (${to})`);
    }
  }
  return found;
}

describe('import rules', () => {
  it('the kernel imports nothing outside itself: no event bus, contracts, subgraph or gateway', () => {
    expect(violations('kernel/src')).toEqual([]);
  });

  it('the event bus imports only the kernel; contracts import only the bus (its catalogue)', () => {
    expect(violations('events/src')).toEqual([]);
    expect(violations('contracts/src')).toEqual([]);
  });

  it('a subgraph imports the kernel, the bus and contracts, never another subgraph or the gateway', () => {
    for (const name of SUBGRAPHS) expect(violations(`subgraphs/${name}/src`)).toEqual([]);
  });

  it('the gateway imports no subgraph; test support imports no subgraph or gateway', () => {
    expect(violations('gateway/src')).toEqual([]);
    expect(violations('testing')).toEqual([]);
  });

  it('the console and the widget import nothing of ours (they run in browsers)', () => {
    for (const dir of ['console/src', 'console/widget', 'console/examples'])
      expect(violations(dir)).toEqual([]);
    expect(sources('console/src').some((f) => f.endsWith('.tsx'))).toBe(true);
  });

  it('the model clients (llm) import only the kernel', () => {
    expect(violations('llm/src')).toEqual([]);
    expect(ALLOWED.llm?.('events')).toBe(false);
  });

  it('the checker itself catches a forbidden import', () => {
    // The rules above must be able to fail: resolve a known cross-area import by hand.
    expect(areaOf('subgraphs/agent/src/x.ts')).toBe('subgraph:agent');
    expect(areaOf(importsOf('subgraphs/governance/src/events.ts')[0]!)).toBe('contracts');
    expect(ALLOWED.kernel?.('events')).toBe(false);
  });
});

describe('table ownership', () => {
  const SQL = /\b(select|insert|update|delete|from|join|into)\b/i;
  it('a subgraph names no other subgraph’s schema in its SQL', () => {
    const found: string[] = [];
    for (const name of SUBGRAPHS) {
      const others = SUBGRAPHS.filter((n) => n !== name).join('|');
      const foreign = new RegExp(`\\b(${others})\\.[a-z_]+`, 'g');
      for (const file of sources(`subgraphs/${name}/src`)) {
        const text = readFileSync(join(ROOT, file), 'utf8');
        for (const literal of text.match(/'[^'\n]*'|`[^`]*`|"[^"\n]*"/g) ?? []) {
          if (!SQL.test(literal)) continue;
          for (const hit of literal.match(foreign) ?? []) found.push(`${file}: ${hit}`);
        }
      }
    }
    expect(found).toEqual([]);
  });
});

describe('one rule for ids and names', () => {
  // A UUID or name pattern written out anywhere but kernel/src/ids.ts is a second rule that can drift.
  const UUID_REGEX = /\[0-9a-f\]\{8\}-|z\.uuid\(\)/;
  const NAME_REGEX = /\[a-z0-9\]\[a-z0-9-\]\{0,62\}/;
  const PRODUCTION = [
    'kernel/src',
    'events/src',
    'contracts/src',
    'gateway/src',
    'llm/src',
    'scripts',
    'testing',
  ];

  it('defines the UUID check and the name rule only in kernel/src/ids.ts', () => {
    const found: string[] = [];
    const folders = [...PRODUCTION, ...SUBGRAPHS.map((name) => `subgraphs/${name}/src`)];
    for (const file of folders.flatMap(sources)) {
      if (file === join('kernel', 'src', 'ids.ts') || file.includes(`${join('scripts', 'test')}`)) continue;
      const text = readFileSync(join(ROOT, file), 'utf8');
      if (UUID_REGEX.test(text)) found.push(`${file}: a UUID pattern`);
      if (NAME_REGEX.test(text)) found.push(`${file}: a name pattern`);
    }
    expect(found).toEqual([]);
    expect(UUID_REGEX.test(readFileSync(join(ROOT, 'kernel/src/ids.ts'), 'utf8'))).toBe(true);
    expect(NAME_REGEX.test(readFileSync(join(ROOT, 'kernel/src/ids.ts'), 'utf8'))).toBe(true);
  });
});
