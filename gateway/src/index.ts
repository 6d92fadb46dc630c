import { readFile } from 'node:fs/promises';
import { loadEventsConfig } from '#events/config.ts';
import { authOptions } from '#kernel/auth/auth-options.ts';
import { loadConfig } from '#kernel/config.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { ConfigError } from '#kernel/errors.ts';
import { loadOperationLimits } from '#kernel/graphql/limits/limits-config.ts';
import { createLogger } from '#kernel/logger.ts';
import { announceReady, onShutdown } from '#kernel/process/lifecycle.ts';
import { SUPERGRAPH_FILE } from './compose.ts';
import { loadGatewayConfig } from './config.ts';
import { loadConsoleSignIn } from './console/console-config.ts';
import { startGateway } from './gateway.ts';
import { createLivePubSub } from './live/create-live-pubsub.ts';
import { startConfiguredLiveFanout } from './live/live-fanout.ts';
import { loadSubscriptionLimits } from './subscriptions/subscription-limits.ts';

const config = loadConfig();
const own = loadGatewayConfig();
const events = loadEventsConfig();
const logger = createLogger('gateway', config.log);
// Redis pub/sub when REDIS_URL is set, so every gateway replica sees every event; else in-process.
const live = await createLivePubSub({ redisUrl: events.redisUrl });
logger.info(`live updates via ${live.kind} pub/sub`);
// The gateway's own refusals (limits, validation) are audited in the caller's tenant when it has a database.
const auditOrm = config.database.url
  ? await createOrm({ url: config.database.url, entities: [], poolMax: 2 })
  : undefined;
if (!auditOrm) logger.warn('no DATABASE_URL: the gateway logs its refusals but cannot audit them');
const gateway = await startGateway({
  supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
  subgraphUrls: own.subgraphUrls,
  auth: authOptions(config),
  host: config.host,
  port: own.port,
  introspection: config.introspection,
  apolloTelemetry: own.apolloTelemetry,
  logger,
  limits: loadOperationLimits(),
  subscriptionLimits: loadSubscriptionLimits(),
  production: config.nodeEnv === 'production',
  live,
  auditOrm,
  console: loadConsoleSignIn(config.auth, config.nodeEnv),
  corsOrigins: own.corsOrigins,
  ...(own.apolloStudio ? { apolloStudio: own.apolloStudio } : {}),
});
// Domain events reach subscribers through the `live-fanout` group, run here so that an in-process
// pub/sub works; with Redis, replicas share the group and Redis pub/sub reaches every replica.
// Best-effort: a push reaches only those subscribed at that moment.
// A fan-out that cannot start (no database, no provable service identity) leaves queries and
// mutations served; subscriptions then receive no domain events, and the log says why.
const fanout = await startConfiguredLiveFanout(config, events, live, logger.child('live-fanout')).catch(
  (error: unknown) => {
    const why = error instanceof ConfigError ? error.message : String(error);
    logger.error(`live fan-out off: subscriptions receive no domain events: ${why}`);
    return undefined;
  },
);
if (!fanout && !config.database.url) {
  logger.warn('no DATABASE_URL: subscriptions receive no domain events (live fan-out off)');
}
// The gateway closes its WebSockets first; only then is the pub/sub they read closed.
onShutdown(async () => {
  await fanout?.close();
  await gateway.close();
  await live.close();
  await auditOrm?.close();
}, logger);
logger.info(`ready at ${gateway.url}`);
announceReady({ name: 'gateway', url: gateway.url });
