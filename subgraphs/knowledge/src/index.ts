import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { knowledgeSubgraph } from './subgraph.ts';

await runSubgraph(knowledgeSubgraph);
