// Where each process listens by default, and the consumer groups the workers run, gathered from each one's own configuration (scripts may
// import every package; the kernel knows none of these names).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_DEV_ISSUER_PORT } from '#kernel/config.ts';
import { DEFAULT_GATEWAY_PORT, SUBGRAPH_NAMES, type SubgraphName } from '../../gateway/src/config.ts';
import { DEFAULT_PORT as agent } from '../../subgraphs/agent/src/config.ts';
import { DEFAULT_PORT as audit } from '../../subgraphs/audit/src/config.ts';
import { DEFAULT_PORT as governance } from '../../subgraphs/governance/src/config.ts';
import { DEFAULT_PORT as knowledge } from '../../subgraphs/knowledge/src/config.ts';

export { SUBGRAPH_NAMES, type SubgraphName };

/** Default ports: the gateway on 4000, subgraphs on 4001-4004, the dev issuer on 4010. */
export const DEFAULT_PORTS = {
  gateway: DEFAULT_GATEWAY_PORT,
  knowledge,
  agent,
  governance,
  audit,
  devIssuer: DEFAULT_DEV_ISSUER_PORT,
} as const satisfies Record<SubgraphName | 'gateway' | 'devIssuer', number>;

/** The consumer groups of every subgraph (subgraphs/<name>/src/consumers/index.ts exports `consumers`). */
export async function consumerGroups(root = join(import.meta.dirname, '..', '..')): Promise<string[]> {
  const groups: string[] = [];
  for (const name of SUBGRAPH_NAMES) {
    const folder = join(root, 'subgraphs', name, 'src', 'consumers');
    let files: string[];
    try {
      files = readdirSync(folder);
    } catch {
      continue;
    }
    if (!files.includes('index.ts')) continue;
    const module = (await import(pathToFileURL(join(folder, 'index.ts')).href)) as {
      consumers?: { group: string }[];
    };
    groups.push(...(module.consumers ?? []).map((c) => c.group));
  }
  return groups;
}
