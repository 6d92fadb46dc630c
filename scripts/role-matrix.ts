// npm run roles:matrix: writes docs/role-matrix.md from the SDL; with --check, fails if it is stale.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { roleMatrix, roleMatrixMarkdown } from '#kernel/graphql/role-matrix.ts';
import { ROOT_DIR } from '../gateway/src/compose.ts';
import { SUBGRAPH_NAMES } from '../gateway/src/config.ts';

/** The matrix file. */
export const ROLE_MATRIX_FILE = resolve(ROOT_DIR, 'docs', 'role-matrix.md');

/** Every SDL source that declares operations: the subgraphs and the gateway's own schema. */
export async function sdlSources(): Promise<{ source: string; sdl: string }[]> {
  const sources = [];
  for (const name of SUBGRAPH_NAMES) {
    sources.push({
      source: name,
      sdl: await readFile(resolve(ROOT_DIR, 'subgraphs', name, 'schema.graphql'), 'utf8'),
    });
  }
  const gateway = resolve(ROOT_DIR, 'gateway', 'schema', 'subscriptions.graphql');
  if (existsSync(gateway)) sources.push({ source: 'gateway', sdl: await readFile(gateway, 'utf8') });
  return sources;
}

if (import.meta.main) {
  const markdown = roleMatrixMarkdown(roleMatrix(await sdlSources()));
  if (process.argv.includes('--check')) {
    const current = await readFile(ROLE_MATRIX_FILE, 'utf8').catch(() => '');
    if (current !== markdown) {
      process.stderr.write('docs/role-matrix.md is stale: run npm run roles:matrix and commit it\n');
      process.exit(1);
    }
    process.stdout.write('docs/role-matrix.md is up to date\n');
  } else {
    await writeFile(ROLE_MATRIX_FILE, markdown);
    process.stdout.write('wrote docs/role-matrix.md\n');
  }
}
