import { agentApprovals } from './approvals.ts';
import { agentKillSwitch } from './kill-switch.ts';
import { agentRunner } from './runner.ts';

/** The agent subgraph's event consumers; `npm run worker -- --group <group>` runs one of them. */
export const consumers = [agentApprovals, agentRunner, agentKillSwitch];
