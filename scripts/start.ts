// npm start: the whole platform on one machine. With no configuration it runs the embedded
// database (PGlite + pgvector), the dev token issuer, the four subgraphs, one event worker per
// consumer group (the first also relays the outbox) and the gateway (which pushes live updates).
import { join } from 'node:path';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { type DevIssuer, loadOrCreateDevKeys, startDevIssuer } from '#kernel/auth/dev-issuer.ts';
import { loadConfig } from '#kernel/config.ts';
import { type EmbeddedDatabase, startEmbeddedDatabase } from '#kernel/db/embedded-database.ts';
import { migrate } from '#kernel/db/migrate.ts';
import { ConfigError } from '#kernel/errors.ts';
import { createLogger } from '#kernel/logger.ts';
import { ROOT_DIR } from '../gateway/src/compose.ts';
import { CONSOLE_DIST, CONSOLE_PATH } from '../gateway/src/console/console-routes.ts';
import { serveLiveBackups } from './lib/backup/live.ts';
import { DEMO_TENANT, seedDemoTenant } from './lib/seed.ts';
import { consumerGroups, SUBGRAPH_NAMES } from './lib/services.ts';
import { isBuildStale } from './lib/stale-build.ts';
import { Supervisor } from './lib/supervisor.ts';

/** Pool size per service on the embedded database, which serialises queries anyway. */
const EMBEDDED_POOL_MAX = 4;
/** How often the embedded relays look at the outbox (they cannot be woken by NOTIFY there). */
const EMBEDDED_RELAY_POLL_MS = 50;
/** Events each worker process handles at once. */
const WORKER_CONCURRENCY = 4;

const config = loadConfig();
const logger = createLogger('start', config.log);
const supervisor = new Supervisor(logger);
let database: EmbeddedDatabase | undefined;
let stopBackups: (() => Promise<void>) | undefined;
let issuer: DevIssuer | undefined;
let stopping: Promise<void> | undefined;

const stop = (exitCode: number) => {
  stopping ??= (async () => {
    await supervisor.stopAll();
    await issuer?.close();
    await stopBackups?.();
    await database?.close();
    logger.info('stopped');
  })();
  return stopping.then(() => process.exit(exitCode));
};
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));
// A crashed service is restarted with backoff (the supervisor logs each restart); only one that
// keeps crashing stops the platform.
supervisor.onGiveUp = (name, crashes, windowMs) => {
  logger.error(
    `${name} crashed ${crashes} times within ${windowMs / 1000} s; stopping the platform (see its log above)`,
  );
  void stop(1);
};

try {
  const env: NodeJS.ProcessEnv = { ...process.env };

  if (config.database.url) {
    if (!config.database.migrationUrl || config.database.migrationUrl === config.database.url) {
      throw new ConfigError([
        'MIGRATION_DATABASE_URL must name a role that can create roles and schemas when DATABASE_URL is set ' +
          '(services connect as widgetdc_app, which cannot migrate)',
      ]);
    }
    logger.info('PostgreSQL from DATABASE_URL');
    await migrate({ url: config.database.migrationUrl, logger: logger.child('migrate') });
  } else {
    logger.info(`embedded PostgreSQL (PGlite + pgvector), data in ${config.dataDir}`);
    database = await startEmbeddedDatabase({ dataDir: config.dataDir });
    await migrate({ url: database.url, logger: logger.child('migrate') });
    await database.seal();
    // npm run backup asks this process for a consistent copy while the platform runs.
    stopBackups = await serveLiveBackups(database, config.dataDir);
    env.DATABASE_URL = database.url;
    env.DB_POOL_MAX ??= String(EMBEDDED_POOL_MAX);
    // PGlite's one session hands a NOTIFY to whichever connection runs next, not to the relay's
    // listener: the embedded relays poll, often enough that events stay prompt.
    env.EVENTS_RELAY_POLL_MS ??= String(EMBEDDED_RELAY_POLL_MS);
    const seeded = await seedDemoTenant(database.url);
    if (seeded.created) logger.info(`seeded the "${DEMO_TENANT}" tenant`);
  }

  if (!config.auth.jwksUrl && !config.auth.entra) {
    // Refuses under NODE_ENV=production unless ALLOW_DEV_ISSUER_IN_PRODUCTION=true.
    issuer = await startDevIssuer(await loadOrCreateDevKeys(config.dataDir), {
      host: config.host,
      port: config.auth.devIssuerPort,
      nodeEnv: config.nodeEnv,
      allowInProduction: config.auth.allowDevIssuerInProduction,
      audience: config.auth.audience,
    });
    env.AUTH_JWKS_URL = issuer.jwksUrl;
    // The console's development sign-in mints tokens here, through the gateway.
    env.CONSOLE_DEV_ISSUER_URL ??= new URL(issuer.jwksUrl).origin;
    env.AUTH_ISSUER = issuer.issuer;
    env.TENANT_AUTO_PROVISION ??= 'true';
    // The demo tenant's Admins operate the development platform (event-stream statistics).
    env.OPERATOR_TENANT_IDS ??= devTenantId(DEMO_TENANT);
    logger.info(`dev token issuer at ${issuer.jwksUrl}`);
  }

  const startSubgraph = async (name: string) => {
    const started = await supervisor.start(name, join(ROOT_DIR, 'subgraphs', name, 'src', 'index.ts'), env);
    // A restarted service listens where the first start did (which may have been a random port).
    env[`${name.toUpperCase()}_PORT`] = new URL(started.url).port;
    return started;
  };
  // Governance asks the agent subgraph about tasks (AGENT_URL): it starts once agent's address is known.
  const subgraphs = await Promise.all(
    SUBGRAPH_NAMES.filter((name) => name !== 'governance').map(startSubgraph),
  );
  env.AGENT_URL = subgraphs.find((s) => s.name === 'agent')?.url;
  subgraphs.push(await startSubgraph('governance'));
  for (const subgraph of subgraphs) env[`${subgraph.name.toUpperCase()}_URL`] = subgraph.url;
  const groups = await consumerGroups();
  for (const [index, group] of groups.entries()) {
    // One relay is enough; it moves every topic's outbox rows.
    const args = ['--group', group, '--concurrency', String(WORKER_CONCURRENCY)];
    if (index > 0) args.push('--no-relay');
    await supervisor.start(`worker ${group}`, join(ROOT_DIR, 'scripts', 'worker.ts'), env, {
      args,
      readyLine: new RegExp(`group ${group} on (redis|postgres)`),
    });
  }
  const consoleSources = ['src', 'widget', 'examples', 'build.ts'].map((p) => join(ROOT_DIR, 'console', p));
  if (await isBuildStale(join(CONSOLE_DIST, 'index.html'), consoleSources)) {
    // Missing, or older than a source file: a changed page is never served from an old bundle.
    // Loaded only when needed: esbuild is a dev dependency.
    const { buildConsole } = await import('../console/build.ts');
    const built = await buildConsole({ quiet: true });
    // esbuild's service process would otherwise live as long as the platform.
    await (await import('esbuild')).stop();
    logger.info(`built the console in ${built.ms} ms (npm run build:console)`);
  }
  const gateway = await supervisor.start('gateway', join(ROOT_DIR, 'gateway', 'src', 'index.ts'), env);
  env.GATEWAY_PORT = new URL(gateway.url).port;
  await waitReady(gateway.url);

  logger.info(
    [
      '',
      `WidgeTDC is ready: ${gateway.url}`,
      `Console:      ${new URL(`${CONSOLE_PATH}/`, gateway.url).href}`,
      `Running:      ${[...SUBGRAPH_NAMES, ...groups.map((g) => `worker ${g}`), 'gateway (live fan-out)'].join(', ')}`,
      issuer
        ? `Get a token:  npm run -s token -- --tenant ${DEMO_TENANT} --user alice --roles Admin`
        : 'Send an Entra ID access token for this API',
      `Then:         curl -s ${gateway.url} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `                -d '{"query":"{ tasks { edges { node { id title status approvals { id status } } } } }"}'`,
      'Stop with Ctrl-C.',
    ].join('\n'),
  );
} catch (error) {
  logger.error(error instanceof Error ? error.message : String(error));
  await stop(1);
}

async function waitReady(graphqlUrl: string): Promise<void> {
  const readyUrl = new URL('/ready', graphqlUrl);
  const deadline = Date.now() + 30_000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(readyUrl);
      if (res.ok) return;
      last = await res.text();
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the gateway did not become ready: ${last}`);
}
