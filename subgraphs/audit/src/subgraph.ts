import { DateTimeScalar } from '#kernel/graphql/scalars.ts';
import type { SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import type { ChainAnchor } from './anchor/chain-anchor.ts';
import { AuditEventSchema } from './domain/audit-event.entity.ts';
import { llmopsMutations, llmopsQueries } from './llmops/llmops-resolvers.ts';
import type { ReplayDependencies } from './observability/generation-replay.ts';
import { AuditEvent } from './resolvers/AuditEvent.ts';
import { EvalRun } from './resolvers/EvalRun.ts';
import { Generation } from './resolvers/Generation.ts';
import { mutationResolvers } from './resolvers/Mutation.ts';
import { promptMutationResolvers, promptQueryResolvers } from './resolvers/prompt-resolvers.ts';
import { queryResolvers } from './resolvers/Query.ts';
import { replayMutationResolvers } from './resolvers/replay-resolvers.ts';
import { Trace } from './resolvers/Trace.ts';

/** What the audit subgraph needs. */
export interface AuditDependencies {
  /** Signs and stores chain checkpoints; absent: chains are verified without them and checkpointing is UNAVAILABLE. */
  anchor?: ChainAnchor;
  /** The chat provider and recorder of replayGeneration; absent: replays are refused as offline. */
  replay?: ReplayDependencies;
}

/** The audit subgraph: the append-only audit log, its checkpoints and its verification. */
export function createAuditSubgraph(dependencies: AuditDependencies = {}): SubgraphDefinition {
  const anchor = dependencies.anchor ?? null;
  return {
    name: 'audit',
    schema: new URL('../schema.graphql', import.meta.url),
    resolvers: {
      DateTime: DateTimeScalar,
      Query: { ...queryResolvers(anchor), ...llmopsQueries, ...promptQueryResolvers },
      Mutation: {
        ...mutationResolvers(anchor),
        ...llmopsMutations(dependencies.replay?.recorder.recording ?? true),
        ...promptMutationResolvers,
        ...replayMutationResolvers(dependencies.replay ?? null),
      },
      AuditEvent,
      Trace,
      EvalRun,
      Generation,
    } as SubgraphDefinition['resolvers'],
    entities: [AuditEventSchema],
  };
}

/** The audit subgraph without an anchor, for processes that only compose or join it (tests of other parts). */
export const auditSubgraph: SubgraphDefinition = createAuditSubgraph();
