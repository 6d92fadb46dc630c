import { loadEventsConfig } from '#events/config.ts';
import { createTransport } from '#events/transport/create-transport.ts';
import { loadConfig } from '#kernel/config.ts';
import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { graphTaskLookup, httpGraphRequest } from './domain/task-lookup.ts';
import { governanceSubgraph } from './subgraph.ts';

const config = loadConfig();
const agentUrl = config.subgraphUrls.agent ?? `http://${config.host}:${config.ports.agent}/graphql`;
const events = createTransport(loadEventsConfig(), config.database.url);
await runSubgraph(governanceSubgraph({ tasks: graphTaskLookup(httpGraphRequest(agentUrl)), events }), {
  onClose: () => events.close(),
});
