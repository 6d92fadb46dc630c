import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import type { TestDatabase } from '#testing/test-database.ts';
import { agentSubgraph } from '../../../agent/src/subgraph.ts';
import { graphTaskLookup, type TaskLookup } from '../../src/domain/task-lookup.ts';

/** The real agent subgraph, in process, answering governance's task lookups as the caller. */
export async function agentTaskLookup(
  db: TestDatabase,
): Promise<{ tasks: TaskLookup; agent: SubgraphHarness }> {
  const agent = await createSubgraphHarness(agentSubgraph, db);
  return {
    agent,
    tasks: graphTaskLookup((ctx, query, variables) => agent.execute(ctx.identity, query, variables)),
  };
}
