// README.md stays true: every npm script, every top-level folder and every configuration variable a
// config schema reads has its row.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** The first cell of every table row, as written (`start`, `kernel/src/`, `GATEWAY_PORT`, …). */
const firstCells = readme
  .split('\n')
  .filter((line) => line.startsWith('| `'))
  .map((line) => line.split(' | ')[0]!);
const named = (name: string) => firstCells.some((cell) => cell.includes(`\`${name}\``));

describe('README', () => {
  it('lists every npm script in its own row', () => {
    const scripts = Object.keys(
      (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
        .scripts,
    );
    expect(scripts.filter((name) => !firstCells.includes(`| \`${name}\``))).toEqual([]);
  });

  it('names every top-level folder in the folder table', () => {
    const folders = readdirSync(ROOT, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !['node_modules', '.git', '.data', 'coverage'].includes(e.name))
      .map((e) => e.name);
    expect(folders.length).toBeGreaterThan(5);
    expect(folders.filter((name) => !firstCells.some((cell) => cell.startsWith(`| \`${name}/`)))).toEqual([]);
  });

  it('has a configuration row for every variable a config schema reads', () => {
    const files = [
      ...readdirSync(join(ROOT, 'kernel/src/config')).map((f) => `kernel/src/config/${f}`),
      'events/src/config.ts',
      'llm/src/config.ts',
      'gateway/src/config.ts',
      ...readdirSync(join(ROOT, 'subgraphs')).map((name) => `subgraphs/${name}/src/config.ts`),
    ];
    const variables = files.flatMap((file) =>
      [...readFileSync(join(ROOT, file), 'utf8').matchAll(/(?:^|[\s{,])([A-Z][A-Z0-9_]{3,}):\s/gm)].map(
        (m) => m[1]!,
      ),
    );
    expect(variables).toContain('DATABASE_URL');
    expect(variables).toContain('GOVERNANCE_PORT');
    expect([...new Set(variables)].filter((name) => !named(name))).toEqual([]);
  });
});
