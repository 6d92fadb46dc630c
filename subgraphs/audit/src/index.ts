import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { loadAuditConfig } from './config.ts';
import { auditSubgraph } from './subgraph.ts';

await runSubgraph(auditSubgraph, { port: loadAuditConfig().port });
