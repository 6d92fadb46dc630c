import { randomUUID } from 'node:crypto';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { governanceSubgraph } from '../src/subgraph.ts';
import { agentTaskLookup } from './support/agent-tasks.ts';

let db: TestDatabase;
let governance: SubgraphHarness;
let agent: SubgraphHarness;
let carl: Identity;
let ann: Identity;
let approverCarl: Identity;
let admin: Identity;
let mallory: Identity;

const REQUEST = `mutation ($input: RequestApprovalInput!) { requestApproval(input: $input) {
  id status riskLevel reason requestedBy decidedBy task { id } } }`;
const DECIDE = `mutation ($input: DecideApprovalInput!) { decideApproval(input: $input) {
  id status decidedBy decidedAt decisionComment } }`;

/** A task of `who`'s tenant (the agent subgraph owns tasks; governance only checks they exist). */
async function task(who: Identity): Promise<string> {
  const id = randomUUID();
  await withTenant(governance.orm, who.tenantId, (em) =>
    em.execute(
      `insert into agent.tasks (id, tenant_id, title, status, created_by, created_by_name, created_at, updated_at)
       values (?, ?, 'A risky task', 'RUNNING', ?, ?, now(), now())`,
      [id, who.tenantId, who.subjectId, who.displayName],
    ),
  );
  return id;
}

async function request(who: Identity, reason = 'Delete the staging database') {
  const result = await governance.execute(who, REQUEST, {
    input: { taskId: await task(who), riskLevel: 'HIGH', reason },
  });
  expect(result.errors).toBeUndefined();
  return result.data?.requestApproval as { id: string; status: string };
}

const auditRows = (action: string) =>
  db.asSuperuser<{ outcome: string; actor_id: string; target_id: string }>(
    'select outcome, actor_id, target_id from audit.audit_events where action = $1 order by seq',
    [action],
  );

beforeAll(async () => {
  db = await createTestDatabase();
  const lookup = await agentTaskLookup(db);
  agent = lookup.agent;
  governance = await createSubgraphHarness(governanceSubgraph({ tasks: lookup.tasks }), db);
  carl = await governance.identity('acme', 'carl', ['Contributor']);
  approverCarl = await governance.identity('acme', 'carl', ['Approver']);
  ann = await governance.identity('acme', 'ann', ['Approver']);
  admin = await governance.identity('acme', 'ada', ['Admin']);
  mallory = await governance.identity('umbrella', 'mallory', ['Admin', 'Approver']);
});
afterAll(async () => {
  await governance?.close();
  await agent?.close();
  await db?.close();
});

describe('approval requests', () => {
  it('opens a PENDING request by the caller and audits it', async () => {
    const created = await request(carl);
    expect(created).toMatchObject({
      status: 'PENDING',
      riskLevel: 'HIGH',
      requestedBy: 'carl@acme',
      decidedBy: null,
    });
    expect(await auditRows('governance.requestApproval')).toContainEqual({
      outcome: 'success',
      actor_id: carl.subjectId,
      target_id: created.id,
    });
  });

  it("refuses a task id that is not one of the tenant's tasks", async () => {
    const foreign = await task(mallory);
    for (const taskId of [foreign, randomUUID()]) {
      const result = await governance.execute(carl, REQUEST, {
        input: { taskId, riskLevel: 'HIGH', reason: 'x' },
      });
      expect(result.errors?.[0]).toMatchObject({
        message: `Task ${taskId} does not exist`,
        extensions: { code: 'NOT_FOUND' },
      });
    }
    const [counted] = await db.asSuperuser<{ count: string }>(
      'select count(*) from governance.approval_requests where task_id = $1',
      [foreign],
    );
    expect(Number(counted?.count)).toBe(0);
  });

  it('refuses an empty reason and a malformed task id with clear messages', async () => {
    const empty = await governance.execute(carl, REQUEST, {
      input: { taskId: await task(carl), riskLevel: 'HIGH', reason: '   ' },
    });
    expect(empty.errors?.[0]?.message).toBe('reason must not be empty');
    const badId = await governance.execute(carl, REQUEST, {
      input: { taskId: 'task-1', riskLevel: 'HIGH', reason: 'x' },
    });
    expect(badId.errors?.[0]?.message).toBe('input.taskId must be a UUID (got "task-1")');
  });

  it('lets another approver decide, once', async () => {
    const { id } = await request(carl);
    const decided = await governance.execute(ann, DECIDE, {
      input: { id, decision: 'APPROVE', comment: 'ok' },
    });
    expect(decided.data?.decideApproval).toMatchObject({
      id,
      status: 'APPROVED',
      decidedBy: 'ann@acme',
      decisionComment: 'ok',
    });
    const again = await governance.execute(admin, DECIDE, { input: { id, decision: 'REJECT' } });
    expect(again.errors?.[0]).toMatchObject({
      message: `Approval request ${id} is already APPROVED`,
      extensions: { code: 'CONFLICT' },
    });
  });

  it('never lets the requester decide their own request, even holding the Approver role', async () => {
    const { id } = await request(carl);
    const result = await governance.execute(approverCarl, DECIDE, { input: { id, decision: 'APPROVE' } });
    expect(result.errors?.[0]).toMatchObject({
      message: `Approval request ${id} was made by you; another approver must decide it`,
      extensions: { code: 'FORBIDDEN' },
    });
    const listed = await governance.execute(admin, `{ approvalRequest(id: "${id}") { status } }`);
    expect(listed.data).toEqual({ approvalRequest: { status: 'PENDING' } });
    expect(await auditRows('governance.decideApproval')).toContainEqual({
      outcome: 'denied',
      actor_id: carl.subjectId,
      target_id: id,
    });
  });

  it("does not let another tenant see or decide a tenant's request", async () => {
    const { id } = await request(carl);
    expect(await governance.execute(mallory, `{ approvalRequest(id: "${id}") { id } }`)).toEqual({
      data: { approvalRequest: null },
    });
    const decided = await governance.execute(mallory, DECIDE, { input: { id, decision: 'APPROVE' } });
    expect(decided.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const mine = await governance.execute(mallory, '{ approvalRequests { edges { node { id } } } }');
    expect(mine.data).toEqual({ approvalRequests: { edges: [] } });
  });

  it('lists requests newest first, filtered by status', async () => {
    const result = await governance.execute(
      admin,
      '{ approvalRequests(status: APPROVED) { edges { node { status } } } }',
    );
    const statuses = (result.data!.approvalRequests as { edges: { node: { status: string } }[] }).edges.map(
      (e) => e.node.status,
    );
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['APPROVED']));
  });

  it('refuses a Contributor deciding and a Reader requesting', async () => {
    const { id } = await request(carl);
    const decided = await governance.execute(carl, DECIDE, { input: { id, decision: 'APPROVE' } });
    expect(decided.errors?.[0]?.message).toBe(
      'Mutation.decideApproval requires one of the roles Approver, Admin; the caller has Contributor',
    );
    const reader = await governance.identity('acme', 'rita', ['Reader']);
    const requested = await governance.execute(reader, REQUEST, {
      input: { taskId: randomUUID(), riskLevel: 'SAFE', reason: 'x' },
    });
    expect(requested.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('kill switch', () => {
  const ENGAGE = 'mutation ($r: String!) { engageKillSwitch(reason: $r) { engaged engagedBy reason } }';

  it('is engaged by an approver with a reason and released by an admin', async () => {
    expect((await governance.execute(ann, ENGAGE, { r: 'runaway agent' })).data).toEqual({
      engageKillSwitch: { engaged: true, engagedBy: 'ann@acme', reason: 'runaway agent' },
    });
    expect(
      (await governance.execute(ann, 'mutation { releaseKillSwitch { engaged } }')).errors?.[0]?.message,
    ).toBe('Mutation.releaseKillSwitch requires the role Admin; the caller has Approver');
    expect(await governance.execute(mallory, '{ killSwitch { engaged } }')).toEqual({
      data: { killSwitch: { engaged: false } },
    });
    expect(
      (await governance.execute(admin, 'mutation { releaseKillSwitch { engaged reason } }')).data,
    ).toEqual({
      releaseKillSwitch: { engaged: false, reason: null },
    });
  });

  it('refuses an empty reason', async () => {
    const result = await governance.execute(ann, ENGAGE, { r: '' });
    expect(result.errors?.[0]?.message).toBe('reason must be 1 to 1000 characters (got 0)');
  });
});

describe('events', () => {
  const outbox = (type: string) =>
    db.asSuperuser<{
      envelope: { tenantId: string; actor: { id: string }; payload: Record<string, unknown> };
    }>("select envelope from platform.outbox where topic = $1 order by envelope->>'occurredAt'", [type]);

  it('announces requests and decisions through the outbox in the same transaction', async () => {
    const { id } = await request(carl, 'Rotate the signing keys');
    await governance.execute(ann, DECIDE, { input: { id, decision: 'REJECT' } });
    const requested = (await outbox('approval.requested')).find((r) => r.envelope.payload.approvalId === id);
    expect(requested?.envelope).toMatchObject({ tenantId: carl.tenantId, actor: { id: carl.subjectId } });
    const decided = (await outbox('approval.decided')).filter((r) => r.envelope.payload.approvalId === id);
    expect(decided.map((r) => r.envelope.payload)).toEqual([
      expect.objectContaining({ decision: 'REJECTED', decidedBy: 'ann@acme' }),
    ]);
  });

  it('announces nothing when the decision is refused', async () => {
    const { id } = await request(carl);
    await governance.execute(approverCarl, DECIDE, { input: { id, decision: 'APPROVE' } });
    expect((await outbox('approval.decided')).filter((r) => r.envelope.payload.approvalId === id)).toEqual(
      [],
    );
  });
});
