import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { governanceSubgraph } from './subgraph.ts';

await runSubgraph(governanceSubgraph);
