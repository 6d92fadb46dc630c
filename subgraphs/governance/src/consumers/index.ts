import { governanceApprovals } from './approval-requests.ts';

/** The governance subgraph's event consumers; `npm run worker -- --group <group>` runs one of them. */
export const consumers = [governanceApprovals];
