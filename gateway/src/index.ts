import { readFile } from 'node:fs/promises';
import { authOptions } from '#kernel/auth/auth-options.ts';
import { loadConfig } from '#kernel/config.ts';
import { createLogger } from '#kernel/logger.ts';
import { announceReady, onShutdown } from '#kernel/process/lifecycle.ts';
import { SUPERGRAPH_FILE } from './compose.ts';
import { startGateway } from './gateway.ts';

const config = loadConfig();
const logger = createLogger('gateway', config.log);
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
});
onShutdown(gateway.close, logger);
logger.info(`ready at ${gateway.url}`);
announceReady({ name: 'gateway', url: gateway.url });
