import { DateTimeScalar, JSONObjectScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { type AgentConfig, loadAgentConfig } from './config.ts';
import { NoteSchema } from './domain/note.entity.ts';
import { SentMailSchema } from './domain/sent-mail.entity.ts';
import { TaskSchema } from './domain/task.entity.ts';
import { TaskStepSchema } from './domain/task-step.entity.ts';
import { ToolPolicySchema } from './domain/tool-policy.entity.ts';
import { mutationResolvers } from './resolvers/Mutation.ts';
import { queryResolvers } from './resolvers/Query.ts';
import { SentMail } from './resolvers/SentMail.ts';
import { Task } from './resolvers/Task.ts';
import { ToolPolicy } from './resolvers/ToolPolicy.ts';
import { builtInTools } from './tools/built-in.ts';
import type { ToolRegistry } from './tools/registry.ts';

/** The agent subgraph over `tools` (default: the built-in tools under the environment's settings). */
export function createAgentSubgraph(
  config: AgentConfig = loadAgentConfig(),
  tools: ToolRegistry = builtInTools(config),
): SubgraphDefinition {
  return {
    name: 'agent',
    schema: new URL('../schema.graphql', import.meta.url),
    resolvers: {
      DateTime: DateTimeScalar,
      JSONObject: JSONObjectScalar,
      Query: queryResolvers(tools),
      Mutation: mutationResolvers(tools, config),
      Task,
      SentMail,
      ToolPolicy,
    } as SubgraphDefinition['resolvers'],
    entities: [TaskSchema, TaskStepSchema, ToolPolicySchema, NoteSchema, SentMailSchema],
  };
}

/** The agent subgraph: tools, tasks, their steps and runs. */
export const agentSubgraph: SubgraphDefinition = createAgentSubgraph();
