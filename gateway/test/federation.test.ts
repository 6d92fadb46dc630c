import { randomUUID } from 'node:crypto';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

let platform: TestPlatform;
let alice: string;
let bob: string;

const JOINED = '{ tasks { edges { node { id title status approvals { id status } } } } }';

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await platform.issuer.token('acme', 'alice', ['Admin']);
  bob = await platform.issuer.token('globex', 'bob', ['Admin']);
});
afterAll(() => platform?.close());

describe('the federated graph through the gateway', () => {
  let taskId: string;
  let approvalId: string;

  it('creates a task through the agent subgraph', async () => {
    const res = await platform.post(
      {
        query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id title status createdBy } }',
        variables: { t: 'Review contract' },
      },
      alice,
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    const task = res.body.data?.createTask as { id: string };
    expect(task).toMatchObject({
      title: 'Review contract',
      status: 'PENDING',
      createdBy: 'alice@acme.dev.widgetdc',
    });
    taskId = task.id;
    approvalId = randomUUID();
    const { orm } = platform.subgraphs.governance;
    const tenantId = devTenantId('acme');
    await withTenant(orm, tenantId, (em) =>
      em.execute(
        `insert into governance.approval_requests (id, tenant_id, task_id, status, risk_level, requested_by, requested_at)
         values (?, ?, ?, 'PENDING', 'HIGH', ?, now())`,
        [approvalId, tenantId, taskId, randomUUID()],
      ),
    );
  });

  it('joins agent and governance in one query', async () => {
    const res = await platform.post({ query: JOINED }, alice);
    expect(res.body).toEqual({
      data: {
        tasks: {
          edges: [
            {
              node: {
                id: taskId,
                title: 'Review contract',
                status: 'PENDING',
                approvals: [{ id: approvalId, status: 'PENDING' }],
              },
            },
          ],
        },
      },
    });
  });

  it('joins the other way round: approval → task', async () => {
    const res = await platform.post(
      {
        query: 'query ($id: ID!) { task(id: $id) { approvals { riskLevel task { title } } } }',
        variables: { id: taskId },
      },
      alice,
    );
    expect(res.body.data).toEqual({
      task: { approvals: [{ riskLevel: 'HIGH', task: { title: 'Review contract' } }] },
    });
  });

  it("shows a second tenant none of it, even when it names the task's id", async () => {
    expect((await platform.post({ query: JOINED }, bob)).body).toEqual({ data: { tasks: { edges: [] } } });
    const byId = await platform.post(
      { query: 'query ($id: ID!) { task(id: $id) { id title } }', variables: { id: taskId } },
      bob,
    );
    expect(byId.body).toEqual({ data: { task: null } });
  });

  it('answers every root field of every subgraph in one request', async () => {
    const res = await platform.post(
      {
        query:
          '{ documents { edges { node { id } } } killSwitch { engaged } auditEvents { edges { node { action targetId } } } }',
      },
      alice,
    );
    expect(res.body).toEqual({
      data: {
        documents: { edges: [] },
        killSwitch: { engaged: false },
        auditEvents: { edges: [{ node: { action: 'agent.createTask', targetId: taskId } }] },
      },
    });
  });
});

describe('identity at the gateway and at every subgraph', () => {
  it('refuses a request without a token with HTTP 401 and UNAUTHENTICATED', async () => {
    const res = await platform.post({ query: JOINED });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]).toMatchObject({
      message: 'Missing access token: send an "Authorization: Bearer <token>" header',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(res.body.data).toBeUndefined();
  });

  it('refuses an expired token', async () => {
    const expired = await platform.issuer.token('acme', 'alice', ['Admin'], 1);
    await new Promise((r) => setTimeout(r, 1100 + platform.issuer.auth.clockToleranceSeconds * 1000));
    const res = await platform.post({ query: JOINED }, expired);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toBe('The access token has expired');
  });

  it.each(['knowledge', 'agent', 'governance', 'audit'] as const)(
    'makes the %s subgraph verify the token itself, even from inside the network',
    async (name) => {
      const url = platform.subgraphs[name].url;
      const none = await platform.post({ query: '{ __typename }' }, undefined, url);
      expect(none.status).toBe(401);
      const forged = `${alice.slice(0, alice.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
      const bad = await platform.post({ query: '{ __typename }' }, forged, url);
      expect(bad.status).toBe(401);
      expect(bad.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const good = await platform.post({ query: '{ __typename }' }, alice, url);
      expect(good.body).toEqual({ data: { __typename: 'Query' } });
    },
  );

  it('hides internal errors behind a generic message', async () => {
    const res = await platform.post({ query: '{ tasks(first: 0) { edges { cursor } } }' }, alice);
    expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(JSON.stringify(res.body)).not.toMatch(/stack|at \w+ \(/);
  });
});

describe('health and readiness', () => {
  it('reports alive and ready on the gateway and each subgraph', async () => {
    for (const url of [platform.gateway.url, ...Object.values(platform.subgraphs).map((s) => s.url)]) {
      expect((await fetch(new URL('/health', url))).status).toBe(200);
      const ready = await fetch(new URL('/ready', url));
      expect({ url, status: ready.status }).toEqual({ url, status: 200 });
    }
  });

  it('is not ready while a subgraph is down, and says which', async () => {
    await platform.subgraphs.audit.close();
    const res = await fetch(new URL('/ready', platform.gateway.url));
    expect(res.status).toBe(503);
    const report = (await res.json()) as { checks: Record<string, string> };
    expect(report.checks.agent).toBe('ok');
    expect(report.checks.audit).toMatch(/unreachable/);
  });
});
