import { loadEventsConfig } from '#events/config.ts';
import { createTransport } from '#events/transport/create-transport.ts';
import { loadConfig } from '#kernel/config.ts';
import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { loadGovernanceConfig } from './config.ts';
import { graphTaskLookup, httpGraphRequest } from './domain/task-lookup.ts';
import { governanceSubgraph } from './subgraph.ts';

const config = loadConfig();
const own = loadGovernanceConfig();
const events = createTransport(loadEventsConfig(), config.database.url);
await runSubgraph(governanceSubgraph({ tasks: graphTaskLookup(httpGraphRequest(own.agentUrl)), events }), {
  port: own.port,
  onClose: () => events.close(),
});
