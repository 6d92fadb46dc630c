import type { StreamTransport } from '#events/transport/transport.ts';
import { DateTimeScalar, JSONObjectScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { ApprovalRequestSchema } from './domain/approval-request.entity.ts';
import { KillSwitchSchema } from './domain/kill-switch.entity.ts';
import type { TaskLookup } from './domain/task-lookup.ts';
import { ApprovalRequest } from './resolvers/ApprovalRequest.ts';
import { mutationResolvers } from './resolvers/Mutation.ts';
import { queryResolvers } from './resolvers/Query.ts';
import { Task } from './resolvers/Task.ts';

/** What the governance subgraph needs from other domains. */
export interface GovernanceDependencies {
  /** Whether a task exists in the caller's tenant (the agent domain's answer, through the graph). */
  tasks: TaskLookup;
  /** The event bus it administers (dead letters, stream statistics); absent: those fields are UNAVAILABLE. */
  events?: StreamTransport;
}

/** The governance subgraph: approval requests, policies and the kill switch. */
export function governanceSubgraph(dependencies: GovernanceDependencies): SubgraphDefinition {
  return {
    name: 'governance',
    schema: new URL('../schema.graphql', import.meta.url),
    resolvers: {
      DateTime: DateTimeScalar,
      JSONObject: JSONObjectScalar,
      Query: queryResolvers(dependencies.events),
      Mutation: mutationResolvers(dependencies.tasks, dependencies.events),
      Task,
      ApprovalRequest,
    } as SubgraphDefinition['resolvers'],
    entities: [ApprovalRequestSchema, KillSwitchSchema],
  };
}
