// npm run worker -- --group <name> [--concurrency <n>] [--no-relay] [--consumers <module>] [--probe-port <n>]
// Runs one consumer group's handler (discovered in subgraphs/*/src/consumers/index.ts) and an
// outbox relay. Start N of these with the same --group and they share the work. The worker acts as
// its own app identity, proven by a verified service token (AUTH_SERVICE_* with Entra ID, else the
// dev issuer's keys in WIDGETDC_DATA_DIR with AUTH_ISSUER/AUTH_JWKS_URL, as `npm start` sets them).
import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { registerEventBusMetrics } from '#events/admin/metrics.ts';
import { loadEventsConfig } from '#events/config.ts';
import { type ConsumerDefinition, topicsOf } from '#events/consumer/consumer.ts';
import { loadWorkerIdentity } from '#events/consumer/service-actor.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { createTransport } from '#events/transport/create-transport.ts';
import { loadConfig } from '#kernel/config.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { ConfigError } from '#kernel/errors.ts';
import { startProbeServer } from '#kernel/http/probes.ts';
import { createLogger } from '#kernel/logger.ts';
import { onShutdown } from '#kernel/process/lifecycle.ts';
import { setupTelemetry } from '#kernel/telemetry/setup.ts';

/** How often the worker logs its progress. */
const PROGRESS_INTERVAL_MS = 10_000;
const ROOT = join(import.meta.dirname, '..');

const config = loadConfig();
const events = loadEventsConfig();
const logger = createLogger('worker', config.log);
const telemetry = setupTelemetry({ serviceName: 'worker', otlpEndpoint: config.otlpEndpoint });

const { values } = parseArgs({
  options: {
    group: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    relay: { type: 'boolean', default: true },
    'no-relay': { type: 'boolean', default: false },
    consumers: { type: 'string' },
    // Serves /health and /ready (for Kubernetes probes); off unless given.
    'probe-port': { type: 'string' },
  },
});

async function discover(): Promise<ConsumerDefinition[]> {
  const modules = values.consumers
    ? [resolve(values.consumers)]
    : readdirSync(join(ROOT, 'subgraphs'))
        .map((name) => join(ROOT, 'subgraphs', name, 'src', 'consumers', 'index.ts'))
        .filter((file) => {
          try {
            return readdirSync(join(file, '..')).includes('index.ts');
          } catch {
            return false;
          }
        });
  const found: ConsumerDefinition[] = [];
  for (const file of modules) {
    const module = (await import(pathToFileURL(file).href)) as { consumers?: ConsumerDefinition[] };
    if (!Array.isArray(module.consumers)) throw new Error(`${file} must export \`consumers\` (an array)`);
    found.push(...module.consumers);
  }
  return found;
}

try {
  const concurrency = Number(values.concurrency);
  const problems: string[] = [];
  if (!values.group) problems.push('--group <name> is required');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    problems.push(`--concurrency must be a whole number from 1 to 256 (got "${values.concurrency}")`);
  }
  const probePort = values['probe-port'] === undefined ? undefined : Number(values['probe-port']);
  if (probePort !== undefined && !(Number.isInteger(probePort) && probePort >= 0 && probePort <= 65535)) {
    problems.push(`--probe-port must be a whole number from 0 to 65535 (got "${values['probe-port']}")`);
  }
  if (!config.database.url) {
    problems.push('DATABASE_URL must be set: the worker connects to the platform database as widgetdc_app');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const consumers = await discover();
  const consumer = consumers.find((c) => c.group === values.group);
  if (!consumer) {
    throw new ConfigError([
      `no consumer group "${values.group}"; known groups: ${consumers.map((c) => c.group).join(', ') || 'none'}`,
    ]);
  }
  const { identity, proof } = await loadWorkerIdentity(config);
  const orm = await createOrm({
    url: config.database.url!,
    entities: [...(consumer.entities ?? [])],
    poolMax: concurrency + 1,
  });
  // A consumer may check its prerequisites first (knowledge-ingest: the vector column's size, its model).
  await (consumer as { prepare?: (orm: MikroORM) => Promise<void> }).prepare?.(orm);
  const transport = createTransport(events, config.database.url);
  const relay =
    values.relay && !values['no-relay']
      ? new OutboxRelay({
          url: config.database.url!,
          transport,
          logger: logger.child('relay'),
          batchSize: events.relayBatch,
          pollMs: events.relayPollMs,
        })
      : undefined;
  const worker = new EventWorker({
    orm,
    transport,
    consumer,
    consumerName: `${hostname()}-${process.pid}`,
    concurrency,
    actorFor: identity.actorFor,
    claimIdleMs: events.claimIdleMs,
    retryBackoffMs: events.retryBackoffMs,
    logger,
  });
  const unregisterMetrics = registerEventBusMetrics(
    telemetry.meterProvider.getMeter('widgetdc.events'),
    transport,
  );
  relay?.start();
  await worker.start();
  // Ready while the database answers; the transport's own failures surface as the worker's errors.
  const probes =
    probePort === undefined
      ? undefined
      : await startProbeServer({
          host: config.host,
          port: probePort,
          ready: async () => {
            try {
              await orm.em.getConnection().execute('select 1');
              return { ready: true, checks: { database: 'ok' } };
            } catch (error) {
              return {
                ready: false,
                checks: { database: error instanceof Error ? error.message : String(error) },
              };
            }
          },
        });
  const progress = setInterval(() => {
    logger.info('progress', {
      ...worker.counters,
      inFlight: worker.inFlight,
      relayed: relay?.relayed ?? 0,
      relayPasses: relay?.passes ?? 0,
    });
  }, PROGRESS_INTERVAL_MS);
  progress.unref();
  onShutdown(async () => {
    clearInterval(progress);
    await probes?.close();
    await worker.close();
    await relay?.close();
    unregisterMetrics();
    await transport.close();
    await orm.close();
    await telemetry.shutdown();
    logger.info('stopped', { ...worker.counters });
  }, logger);
  logger.info(
    `group ${consumer.group} on ${transport.kind}: topics ${topicsOf(consumer).join(', ')}, concurrency ${concurrency}${relay ? ', relay on' : ''}`,
  );
  if (probes) logger.info(`probes on http://${config.host}:${probes.port} (/health, /ready)`);
  logger.info(
    `acting as service ${proof.displayName} (id ${proof.subjectId}${proof.clientId ? `, app ${proof.clientId}` : ''}), verified`,
  );
} catch (error) {
  if (error instanceof ConfigError) logger.error(error.message);
  else logger.error('worker failed to start', { error: String(error) });
  await telemetry.shutdown();
  process.exit(1);
}
