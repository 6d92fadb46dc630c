import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { agentSubgraph } from './subgraph.ts';

await runSubgraph(agentSubgraph);
