// Where each process listens by default, gathered from each one's own configuration (scripts may
// import every package; the kernel knows none of these names).
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
