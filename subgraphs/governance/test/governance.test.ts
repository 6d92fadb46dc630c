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
let alice: Identity;
let mallory: Identity;
const taskA = randomUUID();
const taskB = randomUUID();

const APPROVALS = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Task { id approvals { status riskLevel task { id } } } } }`;

async function requestApproval(who: Identity, taskId: string, riskLevel: string, at: Date) {
  await withTenant(governance.orm, who.tenantId, (em) =>
    em.execute(
      `insert into governance.approval_requests (id, tenant_id, task_id, status, risk_level, requested_by, requested_at)
       values (?, ?, ?, 'PENDING', ?, ?, ?)`,
      [randomUUID(), who.tenantId, taskId, riskLevel, who.subjectId, at],
    ),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  const lookup = await agentTaskLookup(db);
  agent = lookup.agent;
  governance = await createSubgraphHarness(governanceSubgraph({ tasks: lookup.tasks }), db, {
    recordSql: true,
  });
  alice = await governance.identity('acme');
  mallory = await governance.identity('umbrella', 'mallory');
  await requestApproval(alice, taskA, 'HIGH', new Date('2026-11-25T10:00:00Z'));
  await requestApproval(alice, taskA, 'MEDIUM', new Date('2026-11-25T11:00:00Z'));
  await requestApproval(alice, taskB, 'SAFE', new Date('2026-11-25T12:00:00Z'));
});
afterAll(async () => {
  await governance?.close();
  await agent?.close();
  await db?.close();
});

describe('governance subgraph', () => {
  it("contributes each task's approvals, oldest first, batched across tasks", async () => {
    governance.sql.length = 0;
    const result = await governance.execute(alice, APPROVALS, {
      r: [
        { __typename: 'Task', id: taskA },
        { __typename: 'Task', id: taskB },
        { __typename: 'Task', id: randomUUID() },
      ],
    });
    expect(result).toEqual({
      data: {
        _entities: [
          {
            id: taskA,
            approvals: [
              { status: 'PENDING', riskLevel: 'HIGH', task: { id: taskA } },
              { status: 'PENDING', riskLevel: 'MEDIUM', task: { id: taskA } },
            ],
          },
          { id: taskB, approvals: [{ status: 'PENDING', riskLevel: 'SAFE', task: { id: taskB } }] },
          expect.objectContaining({ approvals: [] }),
        ],
      },
    });
    // Three tasks, one query: without the DataLoader each task's approvals would be a query of its own.
    const approvalQueries = governance.sql.filter((s) => /\bselect\b.*\bapproval_requests\b/is.test(s));
    expect(approvalQueries).toHaveLength(1);
  });

  it('shows another tenant no approvals of a task it names by id', async () => {
    const result = await governance.execute(mallory, APPROVALS, { r: [{ __typename: 'Task', id: taskA }] });
    expect(result).toEqual({ data: { _entities: [{ id: taskA, approvals: [] }] } });
  });

  it('reports a kill switch that was never engaged as disengaged', async () => {
    const result = await governance.execute(alice, '{ killSwitch { engaged engagedBy engagedAt reason } }');
    expect(result).toEqual({
      data: { killSwitch: { engaged: false, engagedBy: null, engagedAt: null, reason: null } },
    });
  });

  it("reads the tenant's own kill switch state", async () => {
    await withTenant(governance.orm, mallory.tenantId, (em) =>
      em.execute(
        `insert into governance.kill_switches (tenant_id, engaged, engaged_by, engaged_at, reason) values (?, true, 'mallory', ?, 'drill')`,
        [mallory.tenantId, new Date('2026-11-25T09:00:00Z')],
      ),
    );
    expect(
      await governance.execute(mallory, '{ killSwitch { engaged engagedBy engagedAt reason } }'),
    ).toEqual({
      data: {
        killSwitch: {
          engaged: true,
          engagedBy: 'mallory',
          engagedAt: '2026-11-25T09:00:00.000Z',
          reason: 'drill',
        },
      },
    });
    expect((await governance.execute(alice, '{ killSwitch { engaged } }')).data).toEqual({
      killSwitch: { engaged: false },
    });
  });
});
