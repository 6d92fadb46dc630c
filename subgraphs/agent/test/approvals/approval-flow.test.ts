// Approvals bound to the exact call, end to end in one process: the agent subgraph and its runners
// (agent-runner, agent-approvals), the governance subgraph and its consumer (governance-approvals),
// on one database and event bus. Includes the security cases: who may approve, swapped arguments,
// expiry, and every other path to a HIGH tool.
import type { MikroORM } from '@mikro-orm/postgresql';
import { callDigest } from '#contracts/call-digest.ts';
import { ApprovalDecided } from '#contracts/events/governance.ts';
import { publish } from '#events/producer/outbox.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { eventually, makeTransport, testWorkerIdentity } from '../../../../events/test/support.ts';
import { createApprovalRequests } from '../../../governance/src/consumers/approval-requests.ts';
import { expireApprovals } from '../../../governance/src/domain/approval-expiry.ts';
import { ApprovalRequestSchema } from '../../../governance/src/domain/approval-request.entity.ts';
import { graphTaskLookup } from '../../../governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../../governance/src/subgraph.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { agentApprovals } from '../../src/consumers/approvals.ts';
import { createAgentRunner, RUNNER_ENTITIES } from '../../src/consumers/runner.ts';
import { TaskStepReady } from '../../src/events.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { testTools } from '../fixtures/test-tools.ts';
import { startWorker } from '../runner/support.ts';

const TTL_MS = 24 * 3600_000;
let db: TestDatabase;
let issuer: TestIssuer;
let agent: SubgraphHarness;
let governance: SubgraphHarness;
let orm: MikroORM;
let transport: StreamTransport;
const workers: { close(): Promise<void> }[] = [];
let carl: Identity; // Contributor: owns the tasks
let carlApprover: Identity; // the same person with the Approver role
let rita: Identity; // Contributor
let ann: Identity; // Approver
let bob: Identity; // Approver
let ada: Identity; // Admin

beforeAll(async () => {
  const config = loadAgentConfig({});
  const tools = testTools(config);
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  agent = await createSubgraphHarness(createAgentSubgraph(config, tools), db);
  const tasks = graphTaskLookup((ctx, query, variables) => agent.execute(ctx.identity, query, variables));
  governance = await createSubgraphHarness(governanceSubgraph({ tasks }), db);
  carl = await agent.identity('acme', 'carl', ['Contributor']);
  carlApprover = await agent.identity('acme', 'carl', ['Approver']);
  rita = await agent.identity('acme', 'rita', ['Contributor']);
  ann = await agent.identity('acme', 'ann', ['Approver']);
  bob = await agent.identity('acme', 'bob', ['Approver']);
  ada = await agent.identity('acme', 'ada', ['Admin']);
  orm = await createOrm({
    url: db.appUrl,
    entities: [...RUNNER_ENTITIES, ApprovalRequestSchema],
    poolMax: 8,
  });
  transport = makeTransport('redis', db);
  const runner = createAgentRunner({ tools, steps: config.steps });
  workers.push(await startWorker(orm, transport, runner, issuer, db.appUrl));
  workers.push(await startWorker(orm, transport, agentApprovals, issuer, db.appUrl));
  workers.push(
    await startWorker(orm, transport, createApprovalRequests({ ttlMs: TTL_MS }), issuer, db.appUrl),
  );
});
afterAll(async () => {
  for (const w of workers) await w.close();
  await transport?.destroy([
    'task.step_ready',
    'killswitch.changed',
    'approval.needed',
    'approval.requested',
    'approval.decided',
    'approval.expired',
  ]);
  await transport?.close();
  await orm?.close();
  await governance?.close();
  await agent?.close();
  await db?.close();
  await issuer?.close();
});

const MAIL = { to: ['board@example.com'], subject: 'Q3 results', body: 'Revenue up 12%.' };
const CREATE = 'mutation ($s: [TaskStepInput!]) { createTask(input: { goal: "Report", steps: $s }) { id } }';
const TASK = 'query ($id: ID!) { task(id: $id) { status steps { tool status error input approvalId } } }';
const PENDING = `{ approvalRequests(status: PENDING, first: 100) { edges { node {
  id status tool arguments digest policyVersion requiredApprovals expiresAt requestedBy task { id } } } } }`;
const DECIDE = `mutation ($input: DecideApprovalInput!) { decideApproval(input: $input) {
  id status approvals { approver comment } } }`;

type Step = { tool: string; status: string; error: string | null; approvalId: string | null };
type Approval = {
  id: string;
  tool: string;
  arguments: Record<string, unknown>;
  digest: string;
  policyVersion: number;
  requiredApprovals: number;
  expiresAt: string;
  requestedBy: string;
  task: { id: string };
};

const taskOf = async (id: string) =>
  (await agent.execute(carl, TASK, { id })).data?.task as { status: string; steps: Step[] };
const untilTask = async (
  id: string,
  check: (t: { status: string; steps: Step[] }) => boolean,
  what: string,
) => {
  await eventually(async () => check(await taskOf(id)), what);
  return taskOf(id);
};
const mailsTo = async (address: string) =>
  Number(
    (
      await db.asSuperuser<{ n: string }>(
        'select count(*) as n from agent.sent_mails where recipients ? $1',
        [address],
      )
    )[0]?.n,
  );

/** Creates a task [notes.create, email.send(mail)] as carl and waits for its approval request. */
async function waitingTask(mail = MAIL): Promise<{ id: string; approval: Approval }> {
  const created = await agent.execute(carl, CREATE, {
    s: [
      { tool: 'notes.create', input: { title: 'draft' } },
      { tool: 'email.send', input: mail },
    ],
  });
  expect(created.errors).toBeUndefined();
  const id = (created.data!.createTask as { id: string }).id;
  let approval: Approval | undefined;
  await eventually(async () => {
    const edges = (
      (await governance.execute(ann, PENDING)).data!.approvalRequests as { edges: { node: Approval }[] }
    ).edges;
    approval = edges.map((e) => e.node).find((a) => a.task.id === id);
    return approval !== undefined;
  }, 'the approval request');
  await untilTask(id, (t) => t.steps[1]?.approvalId === approval!.id, 'the step to know its request');
  return { id, approval: approval! };
}

const decide = (who: Identity, id: string, decision: 'APPROVE' | 'REJECT', comment?: string) =>
  governance.execute(who, DECIDE, { input: { id, decision, ...(comment ? { comment } : {}) } });

describe('a HIGH step waits for an approval bound to its exact call', () => {
  it('records tool, full arguments, digest, policy version and expiry; runs exactly those once approved', async () => {
    const { id, approval } = await waitingTask();
    const waiting = await taskOf(id);
    expect(waiting.status).toBe('WAITING_FOR_APPROVAL');
    expect(waiting.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'WAITING_FOR_APPROVAL']);
    expect(approval).toMatchObject({
      tool: 'email.send',
      arguments: MAIL,
      digest: callDigest('email.send', MAIL),
      policyVersion: 0,
      requiredApprovals: 1,
      requestedBy: 'carl@acme',
    });
    const ttl = Date.parse(approval.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(TTL_MS - 600_000);
    expect(ttl).toBeLessThanOrEqual(TTL_MS);
    expect(await mailsTo('board@example.com')).toBe(0);

    const approved = await decide(ann, approval.id, 'APPROVE', 'Numbers checked');
    expect(approved.data?.decideApproval).toMatchObject({
      status: 'APPROVED',
      approvals: [{ approver: 'ann@acme', comment: 'Numbers checked' }],
    });
    const done = await untilTask(id, (t) => t.status === 'COMPLETED', 'the task to complete');
    expect(done.steps.map((s) => s.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const sent = (await agent.execute(carl, '{ sentMails { to subject body } }')).data?.sentMails;
    expect(sent).toEqual([{ to: MAIL.to, subject: MAIL.subject, body: MAIL.body }]);
    const audit = await db.asSuperuser<{ action: string; outcome: string }>(
      `select action, outcome from audit.audit_events where target_id in ($1, (select id::text from agent.task_steps where task_id = $2 and ordinal = 1))
        order by seq`,
      [approval.id, id],
    );
    expect(audit).toEqual(
      expect.arrayContaining([
        { action: 'governance.decideApproval', outcome: 'success' },
        { action: 'agent.tool.email.send', outcome: 'success' },
      ]),
    );
  });

  it('a rejection fails the step closed and cancels the task; nothing is sent', async () => {
    const mail = { ...MAIL, to: ['rejected@example.com'] };
    const { id, approval } = await waitingTask(mail);
    expect((await decide(bob, approval.id, 'REJECT', 'Not yet')).data?.decideApproval).toMatchObject({
      status: 'REJECTED',
    });
    const done = await untilTask(id, (t) => t.status === 'CANCELLED', 'the task to be cancelled');
    expect(done.steps[1]).toMatchObject({ status: 'REJECTED', error: 'rejected by bob@acme' });
    expect(await mailsTo('rejected@example.com')).toBe(0);
  });

  it('needs N distinct approvers when the policy says so', async () => {
    const set = await agent.execute(
      ada,
      'mutation { setToolPolicy(rules: [{ tool: "email.send", approvers: 2 }]) { version } }',
    );
    expect(set.data?.setToolPolicy).toEqual({ version: 1 });
    try {
      const mail = { ...MAIL, to: ['two@example.com'] };
      const { id, approval } = await waitingTask(mail);
      expect(approval).toMatchObject({ policyVersion: 1, requiredApprovals: 2 });
      expect((await decide(ann, approval.id, 'APPROVE')).data?.decideApproval).toMatchObject({
        status: 'PENDING',
      });
      const twice = await decide(ann, approval.id, 'APPROVE');
      expect(twice.errors?.[0]).toMatchObject({
        message: `You already approved request ${approval.id}; it needs 2 distinct approvers`,
        extensions: { code: 'CONFLICT' },
      });
      expect(await mailsTo('two@example.com')).toBe(0);
      expect((await decide(bob, approval.id, 'APPROVE')).data?.decideApproval).toMatchObject({
        status: 'APPROVED',
        approvals: [{ approver: 'ann@acme' }, { approver: 'bob@acme' }],
      });
      await untilTask(id, (t) => t.status === 'COMPLETED', 'the task to complete');
      expect(await mailsTo('two@example.com')).toBe(1);
    } finally {
      await agent.execute(ada, 'mutation { setToolPolicy(rules: []) { version } }');
    }
  });
});

describe('security: nobody reaches a HIGH tool without the right approval', () => {
  it('a Contributor cannot approve, and the requester cannot approve their own call', async () => {
    const mail = { ...MAIL, to: ['own@example.com'] };
    const { id, approval } = await waitingTask(mail);
    const contributor = await decide(rita, approval.id, 'APPROVE');
    expect(contributor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const own = await decide(carlApprover, approval.id, 'APPROVE');
    expect(own.errors?.[0]).toMatchObject({
      message: `Approval request ${approval.id} was made by you; another approver must decide it`,
      extensions: { code: 'FORBIDDEN' },
    });
    const denied = await db.asSuperuser<{ outcome: string }>(
      `select outcome from audit.audit_events where action = 'governance.decideApproval' and outcome = 'denied'
         and (input_summary::text like '%' || $1 || '%')`,
      [approval.id],
    );
    expect(denied.length).toBe(2);
    expect((await taskOf(id)).steps[1]?.status).toBe('WAITING_FOR_APPROVAL');
    expect(await mailsTo('own@example.com')).toBe(0);
  });

  it('arguments swapped after approval are refused: the step fails, nothing is sent', async () => {
    const mail = { ...MAIL, to: ['ceo@example.com'] };
    const { id, approval } = await waitingTask(mail);
    // Tampering below the API (the application role may update steps): the recipients change.
    await db.asSuperuser(
      `update agent.task_steps set input = jsonb_set(input, '{to}', '["attacker@evil.example"]') where task_id = $1 and ordinal = 1`,
      [id],
    );
    await decide(ann, approval.id, 'APPROVE');
    const done = await untilTask(id, (t) => t.status === 'FAILED', 'the task to fail');
    expect(done.steps[1]).toMatchObject({
      status: 'FAILED',
      error: "the step's arguments changed after it was planned; refused",
    });
    expect(await mailsTo('attacker@evil.example')).toBe(0);
    expect(await mailsTo('ceo@example.com')).toBe(0);
  });

  it('an expired request cannot be decided or used: the step fails closed (EXPIRED)', async () => {
    const mail = { ...MAIL, to: ['late@example.com'] };
    const { id, approval } = await waitingTask(mail);
    await db.asSuperuser(
      `update governance.approval_requests set expires_at = now() - interval '1 second' where id = $1`,
      [approval.id],
    );
    const late = await decide(ann, approval.id, 'APPROVE');
    expect(late.errors?.[0]).toMatchObject({ extensions: { code: 'CONFLICT' } });
    expect(late.errors?.[0]?.message).toMatch(/expired at .*; the step it was for fails/);
    const shown = await governance.execute(ann, `{ approvalRequest(id: "${approval.id}") { status } }`);
    expect(shown.data).toEqual({ approvalRequest: { status: 'EXPIRED' } });
    const actorFor = testWorkerIdentity(issuer, 'governance').actorFor;
    // Every governance replica runs the sweeper: two sweeping at the same moment expire it once.
    const swept = await Promise.all([expireApprovals(orm, actorFor), expireApprovals(orm, actorFor)]);
    expect(swept[0] + swept[1]).toBe(1);
    const done = await untilTask(id, (t) => t.status === 'FAILED', 'the task to fail');
    expect(done.steps[1]).toMatchObject({ status: 'EXPIRED' });
    expect(await mailsTo('late@example.com')).toBe(0);
    const audited = await db.asSuperuser<{ n: string }>(
      `select count(*) as n from audit.audit_events where action = 'governance.approval.expired' and target_id = $1`,
      [approval.id],
    );
    expect(Number(audited[0]?.n)).toBe(1);
  });

  it('no other path runs it: forged events, a request made by hand, a replayed step_ready', async () => {
    const mail = { ...MAIL, to: ['forged@example.com'] };
    const { id, approval } = await waitingTask(mail);
    const stepId = (
      await db.asSuperuser<{ id: string }>(
        'select id from agent.task_steps where task_id = $1 and ordinal = 1',
        [id],
      )
    )[0]!.id;
    const source = {
      tenantId: carl.tenantId,
      actor: { kind: 'user' as const, id: rita.subjectId, name: 'rita@acme' },
    };
    await withTenant(orm, carl.tenantId, async (em) => {
      // a decision for other arguments of the same step
      await publish(em, ApprovalDecided, {
        ...source,
        aggregate: { type: 'ApprovalRequest', id: approval.id },
        payload: {
          approvalId: approval.id,
          taskId: id,
          decision: 'APPROVED',
          decidedBy: 'rita@acme',
          stepId,
          digest: callDigest('email.send', { ...mail, to: ['other@example.com'] }),
          policyVersion: 0,
          expiresAt: new Date(Date.now() + 3600_000).toISOString(),
          approvers: [{ id: ann.subjectId, name: 'ann@acme' }],
        },
      });
      // the runner told to go on
      await publish(em, TaskStepReady, {
        ...source,
        aggregate: { type: 'Task', id },
        payload: { taskId: id },
      });
    });
    // an approval asked and granted by hand for the task
    const manual = await governance.execute(
      rita,
      'mutation ($i: RequestApprovalInput!) { requestApproval(input: $i) { id } }',
      { i: { taskId: id, riskLevel: 'HIGH', reason: 'let it send' } },
    );
    const manualId = (manual.data!.requestApproval as { id: string }).id;
    expect((await decide(ann, manualId, 'APPROVE')).data?.decideApproval).toMatchObject({
      status: 'APPROVED',
    });
    // every event above has been consumed once the agent-approvals worker has processed the manual decision
    for (const [approvalId, what] of [
      [manualId, 'the manual decision'],
      [approval.id, 'the forged decision'],
    ] as const) {
      await eventually(async () => {
        const rows = await db.asSuperuser<{ n: string }>(
          `select count(*) as n from audit.audit_events where action = 'agent-approvals.approval.decided' and target_id = $1`,
          [approvalId],
        );
        return Number(rows[0]?.n) === 1;
      }, `${what} to be consumed`);
    }
    await eventually(async () => {
      const rows = await db.asSuperuser<{ n: string }>(
        `select count(*) as n from audit.audit_events where action = 'agent-runner.task.step_ready' and target_id = $1`,
        [id],
      );
      return Number(rows[0]?.n) >= 3;
    }, 'the forged step_ready to be consumed');
    const still = await taskOf(id);
    expect(still.status).toBe('WAITING_FOR_APPROVAL');
    expect(still.steps[1]?.status).toBe('WAITING_FOR_APPROVAL');
    expect(await mailsTo('forged@example.com')).toBe(0);
    expect(await mailsTo('other@example.com')).toBe(0);
    // the real approval still works afterwards
    await decide(bob, approval.id, 'APPROVE');
    await untilTask(id, (t) => t.status === 'COMPLETED', 'the task to complete');
    expect(await mailsTo('forged@example.com')).toBe(1);
  });
});
