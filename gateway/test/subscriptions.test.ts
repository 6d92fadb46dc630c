import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TaskStatus } from '#contracts/enums.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { type RunningSubgraph, startSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { graphTaskLookup, httpGraphRequest } from '../../subgraphs/governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../subgraphs/governance/src/subgraph.ts';
import { SUPERGRAPH_FILE } from '../src/compose.ts';
import { type RunningGateway, startGateway } from '../src/gateway.ts';
import type { LivePubSub } from '../src/live/live-pubsub.ts';
import { createRedisPubSub } from '../src/live/redis-pubsub.ts';
import { type LivePayload, type LiveTopic, PLATFORM_CHANNEL } from '../src/live/topics.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';
import { connectWs, type TestWsClient, type WsMessage } from './support/ws-client.ts';

const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ACME = devTenantId('acme');
const GLOBEX = devTenantId('globex');
const TASK_CHANGES = 'subscription { taskStatusChanged { taskId from to at } }';
const silent = createLogger('test', { level: 'silent' });

let platform: TestPlatform;
const clients: TestWsClient[] = [];
const extraGateways: RunningGateway[] = [];
const extraSubgraphs: RunningSubgraph[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  // Tenants register on first HTTP use in this platform, as in development.
  for (const tenant of ['acme', 'globex']) {
    await platform.post({ query: '{ killSwitch { engaged } }' }, await platform.issuer.token(tenant));
  }
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  for (const gateway of extraGateways) await gateway.close();
  for (const subgraph of extraSubgraphs) await subgraph.close();
  await platform?.close();
});

async function connect(token: string | undefined, url = platform.gateway.wsUrl): Promise<TestWsClient> {
  const client = connectWs(url, token === undefined ? {} : { authorization: `Bearer ${token}` });
  clients.push(client);
  return client;
}

/** Publishes until a subscriber receives it (the server subscribes asynchronously), then returns. */
async function publishWhenSubscribed<T extends LiveTopic>(
  live: LivePubSub,
  tenantId: string,
  topic: T,
  payload: LivePayload<T>,
): Promise<void> {
  while ((await live.publish(tenantId, topic, payload)) === 0) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Publishes until a subscriber receives it and returns the client's next message of subscription
 * `id`; if the server answers the subscription first (an error, a complete), that answer is
 * returned at once, so the test shows what the server said instead of publishing for ever.
 */
async function deliverWhenSubscribed<T extends LiveTopic>(
  client: TestWsClient,
  id: string,
  live: LivePubSub,
  tenantId: string,
  topic: T,
  payload: LivePayload<T>,
): Promise<WsMessage> {
  const next = client.next(id);
  let answered = false;
  void next.then(() => {
    answered = true;
  });
  while (!answered && (await live.publish(tenantId, topic, payload)) === 0)
    await new Promise((r) => setTimeout(r, 10));
  return next;
}

const change = (to: TaskStatus) => ({ taskId: randomUUID(), from: 'PENDING' as const, to });

describe('subscriptions over graphql-ws at the gateway', () => {
  it("delivers the caller's tenant's events and never another tenant's", async () => {
    const alice = await connect(await platform.issuer.token('acme', 'alice', ['Reader']));
    const bob = await connect(await platform.issuer.token('globex', 'bob', ['Reader']));
    await Promise.all([alice.acknowledged, bob.acknowledged]);
    alice.subscribe('a', TASK_CHANGES);
    bob.subscribe('b', TASK_CHANGES);
    const { live } = platform.gateway;
    const firstB = change('RUNNING');
    await publishWhenSubscribed(live, GLOBEX, 'task.status_changed', firstB);
    const firstA = change('RUNNING');
    await publishWhenSubscribed(live, ACME, 'task.status_changed', firstA);
    const secondB = change('FAILED');
    const secondA = change('COMPLETED');
    await live.publish(GLOBEX, 'task.status_changed', secondB);
    await live.publish(ACME, 'task.status_changed', { ...secondA, at: '2026-11-26T12:00:00.000Z' });

    const seenByAlice = [await alice.next('a'), await alice.next('a')];
    expect(seenByAlice.map((m) => m.type)).toEqual(['next', 'next']);
    expect(seenByAlice.map((m) => m.payload)).toEqual([
      { data: { taskStatusChanged: { ...firstA, at: expect.any(String) } } },
      { data: { taskStatusChanged: { ...secondA, at: '2026-11-26T12:00:00.000Z' } } },
    ]);
    const seenByBob = [await bob.next('b'), await bob.next('b')];
    expect(
      seenByBob.map((m) => (m.payload as { data: { taskStatusChanged: { taskId: string } } }).data),
    ).toEqual([
      { taskStatusChanged: expect.objectContaining({ taskId: firstB.taskId }) },
      { taskStatusChanged: expect.objectContaining({ taskId: secondB.taskId }) },
    ]);
  });

  it('filters by task within the tenant when taskId is given', async () => {
    const client = await connect(await platform.issuer.token('acme', 'carol', ['Approver']));
    await client.acknowledged;
    const wanted = randomUUID();
    client.subscribe(
      'd',
      'subscription ($t: ID) { approvalDecided(taskId: $t) { approvalId taskId decision } }',
      {
        t: wanted,
      },
    );
    const other = {
      approvalId: randomUUID(),
      taskId: randomUUID(),
      decision: 'REJECTED' as const,
      decidedBy: 'ann@acme',
    };
    await publishWhenSubscribed(platform.gateway.live, ACME, 'approval.decided', other);
    const mine = {
      approvalId: randomUUID(),
      taskId: wanted,
      decision: 'APPROVED' as const,
      decidedBy: 'ann@acme',
    };
    await platform.gateway.live.publish(ACME, 'approval.decided', mine);
    expect(await client.next('d')).toEqual({
      id: 'd',
      type: 'next',
      payload: {
        data: { approvalDecided: { approvalId: mine.approvalId, taskId: wanted, decision: 'APPROVED' } },
      },
    });
  });

  it('refuses a connection without a token with 4401', async () => {
    const client = await connect(undefined);
    await expect(client.acknowledged).rejects.toMatchObject({
      code: 4401,
      reason: 'Missing access token: send { "authorization": "Bearer <token>" } in connection_init',
    });
  });

  it('refuses a forged token with 4401', async () => {
    const good = await platform.issuer.token('acme');
    const forged = `${good.slice(0, good.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
    const client = await connect(forged);
    await expect(client.acknowledged).rejects.toMatchObject({
      code: 4401,
      reason: 'The access token signature is not valid',
    });
  });

  it('refuses a subscription whose role the caller lacks with FORBIDDEN naming the roles', async () => {
    const client = await connect(await platform.issuer.token('acme', 'audrey', ['Auditor']));
    await client.acknowledged;
    client.subscribe('t', TASK_CHANGES);
    expect(await client.next('t')).toEqual({
      id: 't',
      type: 'error',
      payload: [
        {
          message:
            'Subscription.taskStatusChanged requires one of the roles Reader, Contributor, Approver, Admin; the caller has Auditor',
          extensions: {
            code: 'FORBIDDEN',
            requiredRoles: ['Reader', 'Contributor', 'Approver', 'Admin'],
            requestId: expect.any(String),
          },
        },
      ],
    });
    // The same connection may follow what its role allows.
    client.subscribe('k', 'subscription { killSwitchChanged { engaged reason } }');
    await publishWhenSubscribed(platform.gateway.live, ACME, 'killswitch.changed', {
      engaged: true,
      reason: 'drill',
    });
    expect(await client.next('k')).toMatchObject({
      type: 'next',
      payload: { data: { killSwitchChanged: { engaged: true, reason: 'drill' } } },
    });
  });

  it("pushes the platform-wide kill switch to every tenant's killSwitchChanged, and a tenant's only to its own", async () => {
    const query = 'subscription { killSwitchChanged { scope engaged reason engagedBy } }';
    const acme = await connect(await platform.issuer.token('acme', 'alice', ['Reader']));
    const globex = await connect(await platform.issuer.token('globex', 'gil', ['Auditor']));
    await Promise.all([acme.acknowledged, globex.acknowledged]);
    acme.subscribe('k', query);
    globex.subscribe('k', query);
    // Two subscriptions follow the platform channel once both are listening.
    const engaged = { engaged: true, reason: 'incident', scope: 'PLATFORM' as const, engagedBy: 'olga@ops' };
    while ((await platform.gateway.live.publish(PLATFORM_CHANNEL, 'killswitch.changed', engaged)) < 2)
      await new Promise((r) => setTimeout(r, 10));
    const expected = { type: 'next', payload: { data: { killSwitchChanged: engaged } } };
    expect(await acme.next('k')).toMatchObject(expected);
    expect(await globex.next('k')).toMatchObject(expected);
    const own = { engaged: true, reason: 'ours', scope: 'TENANT' as const, engagedBy: 'gil@globex' };
    await platform.gateway.live.publish(GLOBEX, 'killswitch.changed', own);
    await platform.gateway.live.publish(PLATFORM_CHANNEL, 'killswitch.changed', {
      ...engaged,
      engaged: false,
    });
    expect(await globex.next('k')).toMatchObject({ payload: { data: { killSwitchChanged: own } } });
    // Acme's next push is the platform's release: globex's own switch never reached it.
    expect(await acme.next('k')).toMatchObject({
      payload: { data: { killSwitchChanged: { scope: 'PLATFORM', engaged: false } } },
    });
  });

  it('closes the connection with 4498 "token expired" (retryable) when the token expires', async () => {
    const client = await connect(await platform.issuer.token('acme', 'alice', ['Reader'], 2));
    await client.acknowledged;
    client.subscribe('a', TASK_CHANGES);
    expect(await client.closed).toEqual({ code: 4498, reason: 'token expired' });
  });

  it("lets graphql-ws's own retry reconnect with a fresh token, missing no event of the gap", async () => {
    const { live } = platform.gateway;
    const first = { engaged: true, reason: 'before', eventId: randomUUID() };
    const gap = { engaged: false, reason: 'while reconnecting', eventId: randomUUID() };
    const after = { engaged: true, reason: 'after', eventId: randomUUID() };
    const closes: number[] = [];
    let gapPublished: Promise<unknown> | undefined;
    let tokens = 0;
    const client = createClient({
      url: platform.gateway.wsUrl,
      webSocketImpl: WebSocket,
      // A function: graphql-ws evaluates it again on every (re)connection.
      connectionParams: async () => ({
        authorization: `Bearer ${await platform.issuer.token('acme', 'alice', ['Reader'], tokens++ === 0 ? 3 : 3600)}`,
      }),
      retryAttempts: 3,
      // Reconnect only once the gap's event is published, so it surely happened while disconnected.
      retryWait: async () => {
        await gapPublished;
      },
      on: {
        closed: (event) => {
          const code = (event as { code: number }).code;
          closes.push(code);
          if (code === 4498) gapPublished ??= live.publish(ACME, 'killswitch.changed', gap);
        },
      },
    });
    try {
      const received = client.iterate<{ killSwitchChanged: { eventId: string; reason: string } }>({
        query: 'subscription { killSwitchChanged { eventId reason } }',
      });
      const next = async () => (await received.next()).value?.data?.killSwitchChanged;
      // graphql-ws's iterator subscribes on its first next().
      const firstReceived = next();
      await publishWhenSubscribed(live, ACME, 'killswitch.changed', first);
      expect(await firstReceived).toEqual({ eventId: first.eventId, reason: 'before' });
      expect(await next()).toEqual({ eventId: gap.eventId, reason: 'while reconnecting' });
      const afterReceived = next();
      await publishWhenSubscribed(live, ACME, 'killswitch.changed', after);
      expect(await afterReceived).toEqual({ eventId: after.eventId, reason: 'after' });
      expect(closes).toEqual([4498]);
      expect(tokens).toBe(2);
      await received.return?.();
    } finally {
      await client.dispose();
    }
  }, 30_000);

  it('serves only subscriptions and applies the operation limits', async () => {
    const client = await connect(await platform.issuer.token('acme'));
    await client.acknowledged;
    client.subscribe('q', '{ __typename }');
    expect(await client.next('q')).toMatchObject({
      type: 'error',
      payload: [
        {
          message:
            'The WebSocket endpoint serves subscriptions only; send query operations over HTTP POST to /graphql',
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
    const aliases = Array.from({ length: 21 }, (_, i) => `a${i}: taskId`).join(' ');
    client.subscribe('l', `subscription { taskStatusChanged { ${aliases} } }`);
    expect(await client.next('l')).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'TOO_MANY_ALIASES', limit: 'alias', found: 21, max: 20 } }],
    });
    client.subscribe('v', 'subscription { taskStatusChanged { nope } }');
    expect(await client.next('v')).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
    });
  });
});

describe('a gateway confirming tenants strictly, on Redis pub/sub', () => {
  let gateway: RunningGateway;
  let live: LivePubSub;
  let publisher: LivePubSub;

  beforeAll(async () => {
    // A governance subgraph that refuses unknown tenants: the gateway confirms tenants through it.
    const strict = await startSubgraph(
      governanceSubgraph({ tasks: graphTaskLookup(httpGraphRequest(platform.subgraphs.agent.url)) }),
      {
        databaseUrl: platform.db.appUrl,
        auth: platform.issuer.auth,
        autoProvisionTenants: false,
        host: '127.0.0.1',
        port: 0,
        introspection: false,
        poolMax: 2,
        logger: silent,
      },
    );
    extraSubgraphs.push(strict);
    const prefix = `test:live:${randomUUID()}`;
    live = await createRedisPubSub({ url: REDIS_URL, prefix });
    // The event bus runs in another process: it publishes through its own Redis connections.
    publisher = await createRedisPubSub({ url: REDIS_URL, prefix });
    const urls = Object.fromEntries(Object.values(platform.subgraphs).map((s) => [s.name, s.url]));
    gateway = await startGateway({
      supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
      subgraphUrls: { ...urls, governance: strict.url },
      auth: platform.issuer.auth,
      host: '127.0.0.1',
      port: 0,
      introspection: false,
      apolloTelemetry: false,
      logger: silent,
      live,
    });
  });
  afterAll(async () => {
    await publisher?.close();
    await live?.close();
  });

  it('refuses a tenant that is not registered with 4403, saying so', async () => {
    const client = await connect(await platform.issuer.token('initech', 'peter', ['Admin']), gateway.wsUrl);
    await expect(client.acknowledged).rejects.toMatchObject({
      code: 4403,
      reason: expect.stringMatching(/^Tenant [0-9a-f-]{36} is not registered with WidgeTDC/),
    });
  });

  it('delivers an event published by another process through Redis', async () => {
    const client = await connect(
      await platform.issuer.token('acme', 'alice', ['Contributor']),
      gateway.wsUrl,
    );
    await client.acknowledged;
    client.subscribe('r', 'subscription { approvalRequested { approvalId taskId riskLevel } }');
    const payload = { approvalId: randomUUID(), taskId: randomUUID(), riskLevel: 'HIGH' as const };
    expect(await deliverWhenSubscribed(client, 'r', publisher, ACME, 'approval.requested', payload)).toEqual({
      id: 'r',
      type: 'next',
      payload: { data: { approvalRequested: payload } },
    });
  });

  it('closes its WebSockets (1001) when it stops, before the pub/sub it reads', async () => {
    const client = await connect(await platform.issuer.token('acme', 'alice', ['Reader']), gateway.wsUrl);
    await client.acknowledged;
    client.subscribe('s', TASK_CHANGES);
    await publishWhenSubscribed(publisher, ACME, 'task.status_changed', change('RUNNING'));
    await gateway.close();
    expect(await client.closed).toEqual({ code: 1001, reason: 'Going away' });
    // The pub/sub (owned by the caller) is still usable after the gateway stopped.
    expect(await publisher.publish(ACME, 'task.status_changed', change('PAUSED'))).toBe(0);
  });
});
