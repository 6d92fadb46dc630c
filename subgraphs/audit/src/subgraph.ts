import { DateTimeScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { AuditEventSchema } from './domain/audit-event.entity.ts';
import { AuditEvent } from './resolvers/AuditEvent.ts';
import { Query } from './resolvers/Query.ts';

/** The audit subgraph: the append-only audit log and its verification. */
export const auditSubgraph: SubgraphDefinition = {
  name: 'audit',
  schema: new URL('../schema.graphql', import.meta.url),
  resolvers: { DateTime: DateTimeScalar, Query, AuditEvent } as SubgraphDefinition['resolvers'],
  entities: [AuditEventSchema],
};
