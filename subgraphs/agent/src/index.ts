import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { loadAgentConfig } from './config.ts';
import { agentSubgraph } from './subgraph.ts';

await runSubgraph(agentSubgraph, { port: loadAgentConfig().port });
