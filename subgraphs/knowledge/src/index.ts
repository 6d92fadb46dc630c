import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { loadKnowledgeConfig } from './config.ts';
import { knowledgeSubgraph } from './subgraph.ts';

await runSubgraph(knowledgeSubgraph, { port: loadKnowledgeConfig().port });
