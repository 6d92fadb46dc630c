import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { loadKnowledgeConfig } from './config.ts';
import { createKnowledgeSubgraph } from './subgraph.ts';

const config = loadKnowledgeConfig();
await runSubgraph(createKnowledgeSubgraph(config), { port: config.port });
