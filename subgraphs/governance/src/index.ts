import { loadEventsConfig } from '#events/config.ts';
import { loadWorkerIdentity } from '#events/consumer/service-actor.ts';
import { createTransport } from '#events/transport/create-transport.ts';
import { loadConfig } from '#kernel/config.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { loadGovernanceConfig } from './config.ts';
import { ApprovalRequestSchema } from './domain/approval-request.entity.ts';
import { startExpirySweeper } from './domain/expiry-sweeper.ts';
import { graphTaskLookup, httpGraphRequest } from './domain/task-lookup.ts';
import { governanceSubgraph } from './subgraph.ts';

const config = loadConfig();
const governance = loadGovernanceConfig();
const logger = createLogger('governance', config.log);
const events = createTransport(loadEventsConfig(), config.database.url);

// Undecided requests past APPROVAL_TTL are expired by the governance service as its own identity.
let sweeper: { stop(): Promise<void> } | undefined;
let sweeperOrm: Awaited<ReturnType<typeof createOrm>> | undefined;
if (config.database.url) {
  try {
    const { identity } = await loadWorkerIdentity(config, 'governance');
    sweeperOrm = await createOrm({ url: config.database.url, entities: [ApprovalRequestSchema], poolMax: 1 });
    sweeper = startExpirySweeper({
      orm: sweeperOrm,
      actorFor: identity.actorFor,
      intervalMs: governance.approvalSweepMs,
      logger,
    });
  } catch (error) {
    logger.warn(
      'approval expiry sweeper not running (expired requests still cannot be decided or used): no service identity',
      { error: error instanceof Error ? error.message : String(error) },
    );
  }
}

await runSubgraph(
  governanceSubgraph({ tasks: graphTaskLookup(httpGraphRequest(governance.agentUrl)), events }),
  {
    port: governance.port,
    onClose: async () => {
      await sweeper?.stop();
      await sweeperOrm?.close();
      await events.close();
    },
  },
);
