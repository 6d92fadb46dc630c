// Subscription benchmark: 1,000 graphql-ws subscribers of one tenant on one gateway; each event is a
// domain event committed to the outbox (as a mutation does), moved by the relay to its stream, pushed
// by the gateway's live-fanout consumer to the live pub/sub and through each subscription's federated
// plan to every socket. Measured: from the publishing transaction's commit to each subscriber's receipt,
// the subscribers running in a process of their own (bench/subscription-clients.ts).
// Run: node bench/subscriptions.ts [--subscribers 1000] [--events 40] [--interval 250] [--transport redis|postgres]
// [--pubsub in-process|redis] [--db pglite|postgres]. Target: p99 ≤ 50 ms.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { KillSwitchChanged } from '#contracts/events/governance.ts';
import { publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { PostgresStreamTransport } from '#events/transport/postgres-transport.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createLogger } from '#kernel/logger.ts';
import { testWorkerIdentity } from '../events/test/support.ts';
import { SUPERGRAPH_FILE } from '../gateway/src/compose.ts';
import { startGateway } from '../gateway/src/gateway.ts';
import { createInProcessPubSub } from '../gateway/src/live/in-process-pubsub.ts';
import { startLiveFanout } from '../gateway/src/live/live-fanout.ts';
import type { LivePubSub } from '../gateway/src/live/live-pubsub.ts';
import { createRedisPubSub } from '../gateway/src/live/redis-pubsub.ts';
import { startTestPlatform } from '../gateway/test/support/platform.ts';

const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const TARGET_P99_MS = 50;
const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readOptions() {
  const { values } = parseArgs({
    options: {
      subscribers: { type: 'string', default: '1000' },
      events: { type: 'string', default: '40' },
      interval: { type: 'string', default: '250' },
      transport: { type: 'string', default: 'redis' },
      pubsub: { type: 'string', default: 'in-process' },
      db: { type: 'string' },
    },
  });
  const positive = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`--${name} must be a positive whole number (got ${raw})`);
    return n;
  };
  const choice = <T extends string>(name: string, raw: string | undefined, allowed: readonly T[]) => {
    if (raw !== undefined && !allowed.includes(raw as T)) {
      throw new Error(`--${name} must be one of ${allowed.join(', ')} (got ${raw})`);
    }
    return raw as T | undefined;
  };
  return {
    subscribers: positive('subscribers', values.subscribers),
    events: positive('events', values.events),
    intervalMs: positive('interval', values.interval),
    transport: choice('transport', values.transport, ['redis', 'postgres'] as const) ?? 'redis',
    pubsub: choice('pubsub', values.pubsub, ['in-process', 'redis'] as const) ?? 'in-process',
    db: choice('db', values.db, ['pglite', 'postgres'] as const),
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

async function main() {
  const options = readOptions();
  const prefix = `wtdc-bench-subs:${randomBytes(4).toString('hex')}:`;
  progress(`starting the platform (${options.db ?? 'default'} database)…\n`);
  const platform = await startTestPlatform(options.db ? { kind: options.db } : {});
  const tenant = 'bench';
  const tenantId = devTenantId(tenant);
  await platform.post({ query: '{ killSwitch { engaged } }' }, await platform.issuer.token(tenant));
  const live: LivePubSub =
    options.pubsub === 'redis'
      ? await createRedisPubSub({ url: REDIS_URL, prefix: `${prefix}live` })
      : createInProcessPubSub();
  const gateway = await startGateway({
    supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(Object.values(platform.subgraphs).map((s) => [s.name, s.url])),
    auth: platform.issuer.auth,
    host: '127.0.0.1',
    port: 0,
    introspection: false,
    apolloTelemetry: false,
    logger: createLogger('bench', { level: 'warn' }),
    live,
    subscriptionLimits: {
      maxSubscriptionsPerConnection: 50,
      maxConnectionsPerTenant: options.subscribers + 10,
    },
  });
  const transport: StreamTransport =
    options.transport === 'redis'
      ? new RedisStreamTransport({ url: REDIS_URL, prefix })
      : new PostgresStreamTransport({ url: platform.db.appUrl, prefix, pollMs: 20 });
  const relay = new OutboxRelay({ url: platform.db.appUrl, transport, pollMs: 50 });
  relay.start();
  const fanout = await startLiveFanout({
    databaseUrl: platform.db.appUrl,
    transport,
    live,
    actorFor: testWorkerIdentity(platform.issuer, 'widgetdc-live-fanout').actorFor,
    logger: createLogger('bench', { level: 'warn' }),
    group: `live-fanout-${randomBytes(3).toString('hex')}`,
  });
  const orm = await createOrm({ url: platform.db.appUrl, entities: [], poolMax: 2 });

  // The subscribers run in a process of their own (bench/subscription-clients.ts), as real clients
  // do: receipt times are wall clock there, commit times wall clock here.
  const now = () => performance.timeOrigin + performance.now();
  const committed = new Map<string, number>();
  const token = await platform.issuer.token(tenant, 'watcher', ['Reader']);
  progress(`connecting ${options.subscribers} subscribers (in a process of their own)`);
  const clients = fork(new URL('./subscription-clients.ts', import.meta.url), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const fromClients = <T>(pick: (message: unknown) => T | undefined) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (message && typeof message === 'object' && 'error' in message) {
          clients.off('message', onMessage);
          reject(new Error(`subscribers: ${(message as { error: string }).error}`));
          return;
        }
        if (message && typeof message === 'object' && 'progress' in message) progress('.');
        const picked = pick(message);
        if (picked === undefined) return;
        clients.off('message', onMessage);
        resolve(picked);
      };
      clients.on('message', onMessage);
      clients.once('exit', (code) => reject(new Error(`the subscribers' process exited (${code})`)));
    });
  await fromClients((m) => (m === 'ready' ? true : undefined));
  clients.send({
    connect: {
      url: gateway.wsUrl,
      token,
      count: options.subscribers,
      query: 'subscription { killSwitchChanged { eventId engaged at } }',
    },
  });
  await fromClients((m) => (m === 'connected' ? true : undefined));
  // One raw pub/sub listener beside the sockets: when each event reached the gateway's pub/sub.
  const atPubSub = new Map<string, number>();
  const raw = live.subscribe(tenantId, 'killswitch.changed');
  await raw.ready;
  (async () => {
    for await (const message of raw) atPubSub.set(message.eventId, now());
  })();
  // Every subscription listens once a probe reaches them all (the server subscribes asynchronously).
  while (
    (await live.publish(tenantId, 'killswitch.changed', { engaged: false, reason: 'probe' })) <
    options.subscribers
  ) {
    await sleep(50);
  }
  progress(
    `\nall ${options.subscribers} listening; ${options.events} events, one every ${options.intervalMs} ms\n`,
  );
  await sleep(500);
  const source = { tenantId, actor: { kind: 'user' as const, id: 'bench-user', name: 'bench' } };
  for (let i = 0; i < options.events; i++) {
    const envelope = await withTenant(orm, tenantId, (em) =>
      publish(em, KillSwitchChanged, {
        ...source,
        aggregate: { type: 'KillSwitch', id: tenantId },
        payload: { engaged: i % 2 === 0, reason: `bench ${i}` },
      }),
    );
    // withTenant has committed when it resolves.
    committed.set(envelope.id, now());
    progress(`\r  event ${i + 1}/${options.events}`);
    await sleep(options.intervalMs);
  }
  const deadline = Date.now() + 30_000;
  let received = new Map<string, number[]>();
  const report = async () => {
    const answer = fromClients((m) =>
      m && typeof m === 'object' && 'received' in m
        ? (m as { received: Record<string, number[]> })
        : undefined,
    );
    clients.send('report');
    received = new Map(Object.entries((await answer).received));
  };
  const complete = () =>
    [...committed.keys()].every((id) => (received.get(id)?.length ?? 0) >= options.subscribers);
  await report();
  while (!complete() && Date.now() < deadline) {
    await sleep(250);
    await report();
  }
  progress('\n');

  const latencies: number[] = [];
  const lastReceipt: number[] = [];
  const toPubSub: number[] = [];
  const pubSubToSocket: number[] = [];
  let missing = 0;
  for (const [id, at] of committed) {
    const times = received.get(id) ?? [];
    missing += options.subscribers - times.length;
    for (const t of times) latencies.push(t - at);
    const reached = atPubSub.get(id);
    if (reached !== undefined) {
      toPubSub.push(reached - at);
      for (const t of times) pubSubToSocket.push(t - reached);
    }
    if (times.length > 0) lastReceipt.push(Math.max(...times) - at);
  }
  for (const list of [latencies, lastReceipt, toPubSub, pubSubToSocket]) list.sort((a, b) => a - b);
  const f = (n: number) => `${n.toFixed(1)} ms`;
  out(
    `bench:subscriptions — ${options.subscribers} graphql-ws subscribers, one gateway, ${options.events} events`,
  );
  out(
    `  path: commit → outbox relay → ${transport.kind} stream → live-fanout → ${live.kind} pub/sub → federated plan → socket`,
  );
  out(`  deliveries: ${latencies.length} (${missing} missing)`);
  out(
    `  commit → receipt: p50 ${f(percentile(latencies, 50))}, p90 ${f(percentile(latencies, 90))}, p99 ${f(percentile(latencies, 99))}, max ${f(latencies.at(-1) ?? Number.NaN)}`,
  );
  out(
    `  of which commit → pub/sub (relay, stream, fan-out): p50 ${f(percentile(toPubSub, 50))}, p99 ${f(percentile(toPubSub, 99))}; pub/sub → socket receipt: p50 ${f(percentile(pubSubToSocket, 50))}, p99 ${f(percentile(pubSubToSocket, 99))}`,
  );
  out(
    `  commit → last subscriber of an event: p50 ${f(percentile(lastReceipt, 50))}, p99 ${f(percentile(lastReceipt, 99))}`,
  );
  const p99 = percentile(latencies, 99);
  out(
    `  target p99 ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'met' : 'NOT met'} (ratio ${(p99 / TARGET_P99_MS).toFixed(2)})`,
  );

  await raw.return();
  clients.send('close');
  await fanout.close();
  await relay.close();
  await gateway.close();
  await live.close();
  await transport.close();
  await orm.close();
  await platform.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}

await main().catch((error: unknown) => {
  process.stderr.write(
    `bench:subscriptions failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
