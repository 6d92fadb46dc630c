import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { auditSubgraph } from './subgraph.ts';

await runSubgraph(auditSubgraph);
