// A push's selection reaches the entities of other subgraphs through the gateway's query plan, with
// the subscriber's own token: the same data, roles and row-level security as the same query.
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import type { LivePubSub } from '../../src/live/live-pubsub.ts';
import type { LivePayload, LiveTopic } from '../../src/live/topics.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { connectWs, type TestWsClient } from '../support/ws-client.ts';

const ACME = devTenantId('acme');

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

async function subscriber(tenant: string, user: string, query: string): Promise<TestWsClient> {
  const token = await platform.issuer.token(tenant, user, ['Reader']);
  const client = connectWs(platform.gateway.wsUrl, { authorization: `Bearer ${token}` });
  clients.push(client);
  await client.acknowledged;
  client.subscribe('s', query);
  return client;
}

async function publishWhenSubscribed<T extends LiveTopic>(
  live: LivePubSub,
  topic: T,
  payload: LivePayload<T>,
): Promise<void> {
  while ((await live.publish(ACME, topic, payload)) === 0) await new Promise((r) => setTimeout(r, 10));
}

/** A task with a hand-made approval request in `tenant`, through the gateway. */
async function taskWithApproval(tenant: string): Promise<{ taskId: string; approvalId: string }> {
  const token = await platform.issuer.token(tenant, 'carl', ['Contributor']);
  const created = await platform.post(
    { query: 'mutation { createTask(input: { title: "Send the memo" }) { id } }' },
    token,
  );
  const taskId = (created.body.data!.createTask as { id: string }).id;
  const requested = await platform.post(
    {
      query:
        'mutation ($t: ID!) { requestApproval(input: { taskId: $t, riskLevel: HIGH, reason: "Mails the board" }) { id } }',
      variables: { t: taskId },
    },
    token,
  );
  expect(requested.body.errors).toBeUndefined();
  return { taskId, approvalId: (requested.body.data!.requestApproval as { id: string }).id };
}

const SELECTION = `subscription Approvals {
  approvalRequested {
    approvalId
    riskLevel
    approval { status riskLevel reason requestedBy task { title status createdBy } }
    task { id title }
  }
}`;

describe('subscription payloads with full entities', () => {
  it('resolves the selected entities of other subgraphs through the federated plan', async () => {
    const { taskId, approvalId } = await taskWithApproval('acme');
    const client = await subscriber('acme', 'alice', SELECTION);
    await publishWhenSubscribed(platform.gateway.live, 'approval.requested', {
      approvalId,
      taskId,
      riskLevel: 'HIGH',
    });
    expect(await client.next('s')).toEqual({
      id: 's',
      type: 'next',
      payload: {
        data: {
          approvalRequested: {
            approvalId,
            riskLevel: 'HIGH',
            approval: {
              status: 'PENDING',
              riskLevel: 'HIGH',
              reason: 'Mails the board',
              requestedBy: expect.stringContaining('carl'),
              task: {
                title: 'Send the memo',
                status: 'WAITING_FOR_APPROVAL',
                createdBy: expect.stringContaining('carl'),
              },
            },
            task: { id: taskId, title: 'Send the memo' },
          },
        },
      },
    });
  });

  it("applies the subscriber's own tenant and rights to the entities (another tenant's are null)", async () => {
    // An event naming another tenant's entities (which no real event does): the subgraphs, asked
    // with the subscriber's token, do not find them.
    const theirs = await taskWithApproval('globex');
    const client = await subscriber('acme', 'alice', SELECTION);
    await publishWhenSubscribed(platform.gateway.live, 'approval.requested', {
      ...theirs,
      riskLevel: 'HIGH',
    });
    const message = await client.next('s');
    expect(message).toMatchObject({
      type: 'next',
      payload: { data: { approvalRequested: { approvalId: theirs.approvalId, approval: null, task: null } } },
    });
  });

  it('answers the event alone when nothing beyond it is selected', async () => {
    const client = await subscriber(
      'acme',
      'alice',
      'subscription { killSwitchChanged { eventId engaged reason at } }',
    );
    await publishWhenSubscribed(platform.gateway.live, 'killswitch.changed', {
      engaged: true,
      reason: 'drill',
      eventId: '8d3c1f0e-5b7a-4c2e-9f11-2a6b3c4d5e6f',
      at: '2026-12-03T10:00:00.000Z',
    });
    expect(await client.next('s')).toEqual({
      id: 's',
      type: 'next',
      payload: {
        data: {
          killSwitchChanged: {
            eventId: '8d3c1f0e-5b7a-4c2e-9f11-2a6b3c4d5e6f',
            engaged: true,
            reason: 'drill',
            at: '2026-12-03T10:00:00.000Z',
          },
        },
      },
    });
  });
});
