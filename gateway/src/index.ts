import { readFile } from 'node:fs/promises';
import { authOptions } from '#kernel/auth/auth-options.ts';
import { loadConfig } from '#kernel/config.ts';
import { createLivePubSub } from '#kernel/live/create-live-pubsub.ts';
import { createLogger } from '#kernel/logger.ts';
import { announceReady, onShutdown } from '#kernel/process/lifecycle.ts';
import { SUPERGRAPH_FILE } from './compose.ts';
import { startGateway } from './gateway.ts';

const config = loadConfig();
const logger = createLogger('gateway', config.log);
// Redis pub/sub when REDIS_URL is set, so every gateway replica sees every event; else in-process.
const live = await createLivePubSub({ redisUrl: config.events.redisUrl });
logger.info(`live updates via ${live.kind} pub/sub`);
const gateway = await startGateway({
  supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
  subgraphUrls: config.subgraphUrls,
  auth: authOptions(config),
  host: config.host,
  port: config.ports.gateway,
  introspection: config.introspection,
  apolloTelemetry: config.apolloTelemetry,
  logger,
  limits: config.gateway.limits,
  live,
});
// The gateway closes its WebSockets first; only then is the pub/sub they read closed.
onShutdown(async () => {
  await gateway.close();
  await live.close();
}, logger);
logger.info(`ready at ${gateway.url}`);
announceReady({ name: 'gateway', url: gateway.url });
