import { agentApprovals } from './approvals.ts';

/** The agent subgraph's event consumers; `npm run worker -- --group <group>` runs one of them. */
export const consumers = [agentApprovals];
