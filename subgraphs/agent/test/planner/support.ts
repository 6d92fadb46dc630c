// One process running what the planner suites need: a scripted model behind the fake
// chat-completions server, the agent and governance subgraphs on one test database, and the
// agent-runner worker whose planner talks to that server (plus, with `approvals`, the consumers
// that carry approval requests and decisions between agent and governance).
import type { MikroORM } from '@mikro-orm/postgresql';
import type { StreamTransport } from '#events/transport/transport.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { type FakeChatServer, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { makeTransport } from '../../../../events/test/support.ts';
import { createApprovalRequests } from '../../../governance/src/consumers/approval-requests.ts';
import { ApprovalRequestSchema } from '../../../governance/src/domain/approval-request.entity.ts';
import { graphTaskLookup } from '../../../governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../../governance/src/subgraph.ts';
import { type AgentConfig, loadAgentConfig } from '../../src/config.ts';
import { agentApprovals } from '../../src/consumers/approvals.ts';
import { createAgentRunner, RUNNER_ENTITIES } from '../../src/consumers/runner.ts';
import { createPlanner, type Planner } from '../../src/planner/planner.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { startWorker } from '../runner/support.ts';
import { type Script, scripted } from './scripted-model.ts';

/** A running planner suite. */
export interface PlannerSuite {
  model: FakeChatServer;
  /** Scripts of the model, by goal. */
  scripts: Map<string, Script>;
  config: AgentConfig;
  db: TestDatabase;
  orm: MikroORM;
  agent: SubgraphHarness;
  governance: SubgraphHarness;
  /** The runner's planner: its `bounds` may be changed by a test (and put back). */
  planner: Planner;
  close(): Promise<void>;
}

/** Starts a planner suite; `approvals` adds agent-approvals and governance-approvals. */
export async function startPlannerSuite(options: { approvals?: boolean } = {}): Promise<PlannerSuite> {
  const scripts = new Map<string, Script>();
  const model = await startFakeChatServer(scripted(scripts));
  const config = loadAgentConfig({
    LLM_PROVIDER: 'openai',
    LLM_ENDPOINT: model.baseUrl,
    LLM_MODEL: 'planner-test',
    LLM_MAX_RETRIES: '0',
  });
  const tools = testTools(config);
  const issuer: TestIssuer = await startTestIssuer();
  const db = await createTestDatabase();
  const agent = await createSubgraphHarness(createAgentSubgraph(config, tools), db);
  const tasks = graphTaskLookup((ctx, query, variables) => agent.execute(ctx.identity, query, variables));
  const governance = await createSubgraphHarness(governanceSubgraph({ tasks }), db);
  const orm = await createOrm({
    url: db.appUrl,
    entities: [...RUNNER_ENTITIES, ApprovalRequestSchema],
    poolMax: 8,
  });
  const transport: StreamTransport = makeTransport('redis', db);
  const made = createPlanner(config)!;
  const planner: Planner = {
    model: made.model,
    bounds: { ...config.planner },
    ...(made.recorder ? { recorder: made.recorder } : {}),
  };
  const workers = [
    await startWorker(
      orm,
      transport,
      createAgentRunner({ tools, steps: config.steps, planner }),
      issuer,
      db.appUrl,
    ),
  ];
  if (options.approvals) {
    workers.push(await startWorker(orm, transport, agentApprovals, issuer, db.appUrl));
    workers.push(
      await startWorker(orm, transport, createApprovalRequests({ ttlMs: 3600_000 }), issuer, db.appUrl),
    );
  }
  return {
    model,
    scripts,
    config,
    db,
    orm,
    agent,
    governance,
    planner,
    async close() {
      for (const w of workers) await w.close();
      await transport.destroy([
        'task.step_ready',
        'killswitch.changed',
        'approval.needed',
        'approval.requested',
        'approval.decided',
        'approval.expired',
      ]);
      await transport.close();
      await orm.close();
      await governance.close();
      await agent.close();
      await db.close();
      await issuer.close();
      await model.close();
    },
  };
}
