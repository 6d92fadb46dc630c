// End to end: a mutation writes its event to the outbox, the relay moves it to its stream, the
// gateway's `live-fanout` group pushes it to the live pub/sub, and a graphql-ws subscriber sees it.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { verifiedWorkerIdentity, type WorkerIdentity } from '#events/consumer/service-actor.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { PostgresStreamTransport } from '#events/transport/postgres-transport.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createTokenVerifier } from '#kernel/auth/token-verifier.ts';
import { createLogger } from '#kernel/logger.ts';
import { SUPERGRAPH_FILE } from '../../src/compose.ts';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';
import {
  LIVE_FANOUT_SERVICE_NAME,
  type RunningLiveFanout,
  startLiveFanout,
} from '../../src/live/live-fanout.ts';
import type { LivePubSub } from '../../src/live/live-pubsub.ts';
import { createRedisPubSub } from '../../src/live/redis-pubsub.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { connectWs, type TestWsClient, type WsMessage } from '../support/ws-client.ts';

const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ACME = devTenantId('acme');
const GLOBEX = devTenantId('globex');
/** Task id of readiness probes published straight to the pub/sub; never a real task. */
const PROBE_TASK = randomUUID();
const silent = createLogger('test', { level: 'silent' });

let platform: TestPlatform;
const clients: TestWsClient[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  for (const tenant of ['acme', 'globex']) {
    await platform.post({ query: '{ killSwitch { engaged } }' }, await platform.issuer.token(tenant));
  }
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  await platform?.close();
});

/** The fan-out's verified service identity, its tokens from the test issuer. */
function identity(): WorkerIdentity {
  const service = LIVE_FANOUT_SERVICE_NAME;
  return verifiedWorkerIdentity(
    { service, getToken: (tenantId) => platform.issuer.serviceToken(service, tenantId ?? ACME) },
    createTokenVerifier(platform.issuer.auth),
  );
}

/** The relay plus the fan-out consumer on `transport`, pushing to `live`; stopped together. */
async function startEventPath(transport: StreamTransport, lives: LivePubSub[], group: string) {
  const relay = new OutboxRelay({ url: platform.db.appUrl, transport, pollMs: 50 });
  relay.start();
  const fanouts: RunningLiveFanout[] = [];
  for (const live of lives) {
    fanouts.push(
      await startLiveFanout({
        databaseUrl: platform.db.appUrl,
        transport,
        live,
        actorFor: identity().actorFor,
        logger: silent,
        group,
        retryBackoffMs: 50,
      }),
    );
  }
  return {
    fanouts,
    async close() {
      for (const fanout of fanouts) await fanout.close();
      await relay.close();
      await transport.close();
    },
  };
}

async function subscriber(url: string, tenant: string, user: string, query: string): Promise<TestWsClient> {
  const client = connectWs(url, {
    authorization: `Bearer ${await platform.issuer.token(tenant, user, ['Reader'])}`,
  });
  clients.push(client);
  await client.acknowledged;
  client.subscribe('s', query);
  return client;
}

/** Publishes probes until `receivers` subscriptions are listening (the server subscribes asynchronously). */
async function untilListening(live: LivePubSub, tenantId: string, receivers: number): Promise<void> {
  const probe = { taskId: PROBE_TASK, from: 'PENDING' as const, to: 'PAUSED' as const };
  while ((await live.publish(tenantId, 'task.status_changed', probe)) < receivers) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The next message of the subscription that is not a readiness probe. */
async function nextReal(client: TestWsClient): Promise<WsMessage> {
  for (;;) {
    const message = await client.next('s');
    const data = (message.payload as { data?: { taskStatusChanged?: { taskId?: string } } } | undefined)
      ?.data;
    if (data?.taskStatusChanged?.taskId !== PROBE_TASK) return message;
  }
}

async function mutate(tenant: string, query: string, variables: Record<string, unknown> = {}) {
  const token = await platform.issuer.token(tenant, 'carol', ['Contributor']);
  const res = await platform.post({ query, variables }, token);
  expect(res.body.errors).toBeUndefined();
  return res.body.data as Record<string, { id: string }>;
}

async function newCancelledTask(tenant: string): Promise<string> {
  const created = await mutate(tenant, 'mutation { createTask(input: { title: "Live" }) { id } }');
  const id = created.createTask!.id;
  await mutate(tenant, 'mutation ($id: ID!) { cancelTask(id: $id) { id } }', { id });
  return id;
}

const statusChange = (taskId: string, from: string, to: string) => ({
  type: 'next',
  id: 's',
  payload: { data: { taskStatusChanged: { taskId, from, to, at: expect.any(String) } } },
});

describe('live fan-out in the gateway (Postgres transport, in-process pub/sub)', () => {
  let path: Awaited<ReturnType<typeof startEventPath>>;
  beforeAll(async () => {
    const transport = new PostgresStreamTransport({
      url: platform.db.appUrl,
      prefix: `wtdc-live-${randomBytes(4).toString('hex')}:`,
      pollMs: 20,
    });
    path = await startEventPath(transport, [platform.gateway.live], 'live-fanout');
  });
  afterAll(async () => {
    await path?.close();
  });

  it("pushes a mutation's task.status_changed to its own tenant's subscribers only", async () => {
    const query = 'subscription { taskStatusChanged { taskId from to at } }';
    const alice = await subscriber(platform.gateway.wsUrl, 'acme', 'alice', query);
    const bob = await subscriber(platform.gateway.wsUrl, 'globex', 'bob', query);
    await untilListening(platform.gateway.live, ACME, 1);
    await untilListening(platform.gateway.live, GLOBEX, 1);

    const first = await newCancelledTask('acme');
    expect(await nextReal(alice)).toEqual(statusChange(first, 'PENDING', 'CANCELLED'));
    const theirs = await newCancelledTask('globex');
    expect(await nextReal(bob)).toEqual(statusChange(theirs, 'PENDING', 'CANCELLED'));
    // globex's event was pushed before this one existed: had alice received it, it would come first.
    const second = await newCancelledTask('acme');
    expect(await nextReal(alice)).toEqual(statusChange(second, 'PENDING', 'CANCELLED'));
  });

  it('pushes approval.requested from governance to approvalRequested subscribers of that task', async () => {
    const created = await mutate('acme', 'mutation { createTask(input: { title: "Risky" }) { id } }');
    const taskId = created.createTask!.id;
    const alice = await subscriber(
      platform.gateway.wsUrl,
      'acme',
      'alice',
      `subscription { approvalRequested(taskId: "${taskId}") { approvalId taskId riskLevel at } }`,
    );
    // Probes go to another topic's channel; wait until this subscription's channel has a listener.
    const probe = { approvalId: randomUUID(), taskId: PROBE_TASK, riskLevel: 'SAFE' as const };
    while ((await platform.gateway.live.publish(ACME, 'approval.requested', probe)) < 1) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const requested = await mutate(
      'acme',
      'mutation ($taskId: ID!) { requestApproval(input: { taskId: $taskId, riskLevel: HIGH, reason: "Sends mail" }) { id } }',
      { taskId },
    );
    expect(await alice.next('s')).toEqual({
      type: 'next',
      id: 's',
      payload: {
        data: {
          approvalRequested: {
            approvalId: requested.requestApproval!.id,
            taskId,
            riskLevel: 'HIGH',
            at: expect.any(String),
          },
        },
      },
    });
  });
});

describe('live fan-out with Redis: two gateway replicas share the group', () => {
  const prefix = `wtdc-test:${randomBytes(5).toString('hex')}:`;
  const gateways: RunningGateway[] = [];
  const lives: LivePubSub[] = [];
  let path: Awaited<ReturnType<typeof startEventPath>> | undefined;
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const live = await createRedisPubSub({ url: REDIS_URL, prefix: `${prefix}live` });
      lives.push(live);
      gateways.push(
        await startGateway({
          supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
          subgraphUrls: Object.fromEntries(Object.values(platform.subgraphs).map((s) => [s.name, s.url])),
          auth: platform.issuer.auth,
          host: '127.0.0.1',
          port: 0,
          introspection: false,
          apolloTelemetry: false,
          logger: silent,
          live,
        }),
      );
    }
    // Each replica runs its own consumer of the one group, as `gateway/src/index.ts` does.
    path = await startEventPath(new RedisStreamTransport({ url: REDIS_URL, prefix }), lives, 'live-fanout');
  });
  afterAll(async () => {
    await path?.close();
    for (const gateway of gateways) await gateway.close();
    for (const live of lives) await live.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("every replica's subscribers receive every event, whichever replica consumed it", async () => {
    const query = 'subscription { taskStatusChanged { taskId from to at } }';
    const onFirst = await subscriber(gateways[0]!.wsUrl, 'acme', 'alice', query);
    const onSecond = await subscriber(gateways[1]!.wsUrl, 'acme', 'dave', query);
    // Redis counts subscribed connections: one per replica.
    await untilListening(lives[0]!, ACME, 2);

    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await newCancelledTask('acme'));
    for (const client of [onFirst, onSecond]) {
      const seen: string[] = [];
      for (const _ of ids) {
        const message = await nextReal(client);
        seen.push(
          (message.payload as { data: { taskStatusChanged: { taskId: string } } }).data.taskStatusChanged
            .taskId,
        );
      }
      expect(seen.sort()).toEqual([...ids].sort());
    }
  });
});
