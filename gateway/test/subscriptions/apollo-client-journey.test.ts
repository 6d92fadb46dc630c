// The journey a console makes, with Apollo Client 4 (split HTTP / graphql-ws link) in Node: a task needs
// an approval; the owner's client receives the request live with its full entities, a second user
// approves, and the client sees the step complete and the task finish. Agent runners, the approval
// consumers and the live fan-out run as in `npm start`; another tenant's client receives nothing.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ApolloClient, gql, HttpLink, InMemoryCache, split } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { createLogger } from '#kernel/logger.ts';
import { eventually, testWorkerIdentity } from '../../../events/test/support.ts';
import { loadAgentConfig } from '../../../subgraphs/agent/src/config.ts';
import { agentApprovals } from '../../../subgraphs/agent/src/consumers/approvals.ts';
import { createAgentRunner, RUNNER_ENTITIES } from '../../../subgraphs/agent/src/consumers/runner.ts';
import { builtInTools } from '../../../subgraphs/agent/src/tools/built-in.ts';
import { startWorker } from '../../../subgraphs/agent/test/runner/support.ts';
import { createApprovalRequests } from '../../../subgraphs/governance/src/consumers/approval-requests.ts';
import { ApprovalRequestSchema } from '../../../subgraphs/governance/src/domain/approval-request.entity.ts';
import { SUPERGRAPH_FILE } from '../../src/compose.ts';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';
import { type RunningLiveFanout, startLiveFanout } from '../../src/live/live-fanout.ts';
import type { LivePubSub } from '../../src/live/live-pubsub.ts';
import { createRedisPubSub } from '../../src/live/redis-pubsub.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const GLOBEX = devTenantId('globex');
const PROBE = '00000000-0000-4000-8000-000000000000';
const silent = createLogger('test', { level: 'silent' });
const prefix = `wtdc-journey:${randomBytes(5).toString('hex')}:`;

let platform: TestPlatform;
let orm: MikroORM;
let transport: RedisStreamTransport;
const gateways: RunningGateway[] = [];
const lives: LivePubSub[] = [];
const stops: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  for (const tenant of ['acme', 'globex']) {
    await platform.post({ query: '{ killSwitch { engaged } }' }, await platform.issuer.token(tenant));
  }
  // Two more gateways sharing one Redis, as replicas do; each runs its own live-fanout consumer.
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
  transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  orm = await createOrm({
    url: platform.db.appUrl,
    entities: [...RUNNER_ENTITIES, ApprovalRequestSchema],
    poolMax: 8,
  });
  const config = loadAgentConfig({});
  const runner = createAgentRunner({ tools: builtInTools(config), steps: config.steps });
  const url = platform.db.appUrl;
  stops.push(await startWorker(orm, transport, runner, platform.issuer, url));
  stops.push(await startWorker(orm, transport, agentApprovals, platform.issuer, url));
  stops.push(
    await startWorker(orm, transport, createApprovalRequests({ ttlMs: 3_600_000 }), platform.issuer, url),
  );
  // The embedded gateway's in-process pub/sub has its own group; the replicas share one.
  const fanouts: [LivePubSub, string][] = [
    [platform.gateway.live, 'live-fanout-embedded'],
    [lives[0]!, 'live-fanout'],
    [lives[1]!, 'live-fanout'],
  ];
  for (const [live, group] of fanouts) {
    const fanout: RunningLiveFanout = await startLiveFanout({
      databaseUrl: url,
      transport,
      live,
      actorFor: testWorkerIdentity(platform.issuer, 'widgetdc-live-fanout').actorFor,
      logger: silent,
      group,
      retryBackoffMs: 50,
    });
    stops.push(fanout);
  }
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop.close();
  for (const gateway of gateways) await gateway.close();
  for (const live of lives) await live.close();
  await transport?.close();
  await orm?.close();
  await platform?.close();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

/** An Apollo Client with the split link a browser console uses: HTTP for operations, graphql-ws for subscriptions. */
function apolloClient(token: string, gateway: { url: string; wsUrl: string }) {
  const ws = createClient({
    url: gateway.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: () => ({ authorization: `Bearer ${token}` }),
  });
  const link = split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(ws),
    new HttpLink({ uri: gateway.url, headers: { authorization: `Bearer ${token}` } }),
  );
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  return {
    client,
    async close() {
      client.stop();
      await ws.dispose();
    },
  };
}

const APPROVAL_REQUESTED = gql`
  subscription {
    approvalRequested {
      approvalId
      taskId
      approval { id tool arguments riskLevel expiresAt task { id goal status createdBy } }
    }
  }
`;
const STEP_COMPLETED = gql`
  subscription {
    taskStepCompleted { taskId tool status task { id status steps { tool status } } }
  }
`;
const STATUS_CHANGED = gql`
  subscription {
    taskStatusChanged { taskId to }
  }
`;

type Push = Record<string, Record<string, unknown>>;

/** Follows `query` with `client`, keeping every push in order. */
function follow(client: ApolloClient, query: typeof APPROVAL_REQUESTED) {
  const pushes: Push[] = [];
  const errors: unknown[] = [];
  const subscription = client.subscribe({ query }).subscribe({
    next: (result) => {
      if (result.error) errors.push(result.error);
      else pushes.push(result.data as Push);
    },
    error: (error: unknown) => errors.push(error),
  });
  return {
    pushes,
    errors,
    async until(check: (push: Push) => boolean, what: string): Promise<Push> {
      await eventually(async () => pushes.some(check) || errors.length > 0, what);
      expect(errors).toEqual([]);
      return pushes.find(check) as Push;
    },
    stop: () => subscription.unsubscribe(),
  };
}

/** Publishes a probe on each followed topic of `tenantId` until `receivers` subscriptions listen. */
async function untilListening(live: LivePubSub, tenantId: string, receivers: number): Promise<void> {
  const probes = [
    () => live.publish(tenantId, 'task.status_changed', { taskId: PROBE, from: 'PENDING', to: 'PAUSED' }),
    () =>
      live.publish(tenantId, 'task.step_completed', {
        taskId: PROBE,
        stepId: PROBE,
        ordinal: 0,
        tool: 'probe',
        status: 'SUCCEEDED',
      }),
    () =>
      live.publish(tenantId, 'approval.requested', { approvalId: PROBE, taskId: PROBE, riskLevel: 'SAFE' }),
  ];
  for (const probe of probes) while ((await probe()) < receivers) await new Promise((r) => setTimeout(r, 20));
}

const real = (push: Push) => Object.values(push)[0]?.taskId !== PROBE;

async function journey(
  carlAt: { url: string; wsUrl: string },
  annAt: { url: string; wsUrl: string },
  live: LivePubSub,
  listeners: number,
) {
  const carl = apolloClient(await platform.issuer.token('acme', 'carl', ['Contributor']), carlAt);
  const ann = apolloClient(await platform.issuer.token('acme', 'ann', ['Approver']), annAt);
  const gus = apolloClient(await platform.issuer.token('globex', 'gus', ['Admin']), carlAt);
  try {
    const requested = follow(carl.client, APPROVAL_REQUESTED);
    const steps = follow(carl.client, STEP_COMPLETED);
    const statuses = follow(carl.client, STATUS_CHANGED);
    const theirs = [APPROVAL_REQUESTED, STEP_COMPLETED, STATUS_CHANGED].map((q) => follow(gus.client, q));
    await untilListening(live, devTenantId('acme'), listeners);
    await untilListening(live, GLOBEX, listeners);

    const created = await carl.client.mutate<{ createTask: { id: string } }>({
      mutation: gql`
        mutation ($steps: [TaskStepInput!]) {
          createTask(input: { goal: "Send the Q3 report", steps: $steps }) { id }
        }
      `,
      variables: {
        steps: [
          { tool: 'notes.create', input: { title: 'Q3', body: 'Up 12%' } },
          { tool: 'email.send', input: { to: ['board@example.com'], subject: 'Q3', body: 'Up 12%' } },
        ],
      },
    });
    const taskId = created.data?.createTask.id as string;

    const request = await requested.until(
      (p) => p.approvalRequested?.taskId === taskId,
      'the approval request push',
    );
    expect(request.approvalRequested).toEqual({
      __typename: 'ApprovalRequested',
      approvalId: expect.any(String),
      taskId,
      approval: {
        __typename: 'ApprovalRequest',
        id: request.approvalRequested?.approvalId,
        tool: 'email.send',
        arguments: { to: ['board@example.com'], subject: 'Q3', body: 'Up 12%' },
        riskLevel: 'HIGH',
        expiresAt: expect.any(String),
        task: {
          __typename: 'Task',
          id: taskId,
          goal: 'Send the Q3 report',
          status: 'WAITING_FOR_APPROVAL',
          createdBy: expect.stringContaining('carl'),
        },
      },
    });
    // The push updated Apollo's normalised cache: the approval is readable without a query.
    expect(
      carl.client.cache.readFragment({
        id: `ApprovalRequest:${request.approvalRequested?.approvalId}`,
        fragment: gql`fragment Seen on ApprovalRequest { tool riskLevel }`,
      }),
    ).toEqual({ __typename: 'ApprovalRequest', tool: 'email.send', riskLevel: 'HIGH' });

    const decided = await ann.client.mutate<{ decideApproval: { status: string } }>({
      mutation: gql`
        mutation ($id: ID!) { decideApproval(input: { id: $id, decision: APPROVE, comment: "checked" }) { id status } }
      `,
      variables: { id: request.approvalRequested?.approvalId },
    });
    expect(decided.data?.decideApproval.status).toBe('APPROVED');

    const mailed = await steps.until(
      (p) => p.taskStepCompleted?.taskId === taskId && p.taskStepCompleted?.tool === 'email.send',
      'the email step completing',
    );
    expect(mailed.taskStepCompleted).toMatchObject({ status: 'SUCCEEDED', task: { id: taskId } });
    await statuses.until(
      (p) => p.taskStatusChanged?.taskId === taskId && p.taskStatusChanged?.to === 'COMPLETED',
      'the task finishing',
    );
    expect(steps.pushes.filter(real).map((p) => p.taskStepCompleted?.tool)).toEqual([
      'notes.create',
      'email.send',
    ]);

    // globex's clients received nothing of acme's: a probe published now must be the first real push each sees.
    await untilListening(live, GLOBEX, listeners);
    for (const followed of theirs) {
      await eventually(async () => followed.pushes.length > 0, 'a probe on globex');
      expect(followed.errors).toEqual([]);
      expect(followed.pushes.filter(real)).toEqual([]);
    }
  } finally {
    await Promise.all([carl.close(), ann.close(), gus.close()]);
  }
}

describe('Apollo Client 4 through the gateway, live', () => {
  it('receives the approval request with its entities, then the step and the task finishing (one gateway)', async () => {
    await journey(platform.gateway, platform.gateway, platform.gateway.live, 1);
  });

  it('does the same with two gateway processes on one Redis (subscriber on one, approver on the other)', async () => {
    // Redis counts subscribed connections: the subscriber's gateway holds one per channel.
    await journey(gateways[0]!, gateways[1]!, lives[1]!, 1);
  });
});
