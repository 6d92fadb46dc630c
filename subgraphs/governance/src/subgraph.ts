import { DateTimeScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { ApprovalRequestSchema } from './domain/approval-request.entity.ts';
import { KillSwitchSchema } from './domain/kill-switch.entity.ts';
import { ApprovalRequest } from './resolvers/ApprovalRequest.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Query } from './resolvers/Query.ts';
import { Task } from './resolvers/Task.ts';

/** The governance subgraph: approval requests, policies and the kill switch. */
export const governanceSubgraph: SubgraphDefinition = {
  name: 'governance',
  schema: new URL('../schema.graphql', import.meta.url),
  resolvers: {
    DateTime: DateTimeScalar,
    Query,
    Mutation,
    Task,
    ApprovalRequest,
  } as SubgraphDefinition['resolvers'],
  entities: [ApprovalRequestSchema, KillSwitchSchema],
  usesEventTransport: true,
};
