// npm run compose: writes schema/supergraph.graphql; with --check, fails if it is stale instead.
import { readFile, writeFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { composeSupergraph, ROOT_DIR, SUPERGRAPH_FILE } from '../gateway/src/compose.ts';

const check = process.argv.includes('--check');
const composition = await composeSupergraph();
if (!composition.ok) {
  process.stderr.write(`Composition failed:\n  - ${composition.errors.join('\n  - ')}\n`);
  process.exit(1);
}
const target = relative(ROOT_DIR, SUPERGRAPH_FILE);
const current = await readFile(SUPERGRAPH_FILE, 'utf8').catch(() => '');
if (check) {
  if (current !== composition.supergraphSdl) {
    process.stderr.write(`${target} is stale: run npm run compose and commit it\n`);
    process.exit(1);
  }
  process.stdout.write(`${target} is up to date\n`);
} else {
  await writeFile(SUPERGRAPH_FILE, composition.supergraphSdl);
  process.stdout.write(`composed ${target} (${composition.hints.length} hints)\n`);
}
