import { DateTimeScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { TaskSchema } from './domain/task.entity.ts';
import { Mutation } from './resolvers/Mutation.ts';
import { Query } from './resolvers/Query.ts';
import { Task } from './resolvers/Task.ts';

/** The agent subgraph: agents, tasks and their runs. */
export const agentSubgraph: SubgraphDefinition = {
  name: 'agent',
  schema: new URL('../schema.graphql', import.meta.url),
  resolvers: { DateTime: DateTimeScalar, Query, Mutation, Task } as SubgraphDefinition['resolvers'],
  entities: [TaskSchema],
};
