import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ApprovalDecided, ApprovalRequested } from '#contracts/events/governance.ts';
import type { EventDefinition } from '#events/catalogue.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { type EventSource, type PublishInput, publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { devServiceId } from '#kernel/auth/dev-issuer.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import {
  eventually,
  makeTransport,
  tenantSource,
  testWorkerIdentity,
} from '../../../../events/test/support.ts';
import { agentApprovals } from '../../src/consumers/approvals.ts';
import { Task } from '../../src/domain/task.entity.ts';

let db: TestDatabase;
let orm: MikroORM;
let transport: StreamTransport;
let relay: OutboxRelay;
let worker: EventWorker;
let acme: EventSource;
let issuer: TestIssuer;
const AGENT = 'agent-worker';

beforeAll(async () => {
  issuer = await startTestIssuer();
  db = await createTestDatabase();
  orm = await createOrm({ url: db.appUrl, entities: [...(agentApprovals.entities ?? [])], poolMax: 4 });
  acme = await tenantSource(orm, 'acme');
  transport = makeTransport('redis', db);
  relay = new OutboxRelay({ url: db.appUrl, transport, pollMs: 50 });
  relay.start();
  worker = new EventWorker({
    orm,
    transport,
    consumer: agentApprovals,
    consumerName: 'test',
    concurrency: 4,
    actorFor: testWorkerIdentity(issuer, AGENT).actorFor,
    retryBackoffMs: 20,
    blockMs: 100,
  });
  await worker.start();
  await transport.ensureGroup('task.status_changed', 'observer');
});
afterAll(async () => {
  await worker?.close();
  await relay?.close();
  await transport?.destroy(['approval.requested', 'approval.decided', 'task.status_changed']);
  await transport?.close();
  await orm?.close();
  await db?.close();
  await issuer?.close();
});

const newTask = () =>
  withTenant(orm, acme.tenantId, async (em) => {
    const task = Task.open('Send the quarterly mail', {
      tenantId: acme.tenantId,
      subjectId: acme.actor.id,
      kind: 'user',
      displayName: acme.actor.name,
      roles: [],
      scopes: [],
    });
    em.persist(task);
    await em.flush();
    return task.id;
  });

const emit = <D extends EventDefinition>(
  definition: D,
  payload: PublishInput<D>['payload'],
  approvalId: string,
) =>
  withTenant(orm, acme.tenantId, (em) =>
    publish(em, definition, { ...acme, aggregate: { type: 'ApprovalRequest', id: approvalId }, payload }),
  );

const statusOf = (id: string) =>
  withTenant(orm, acme.tenantId, async (em) => (await em.findOneOrFail(Task, { id })).status);

const changes = async () =>
  (await transport.read('observer', 'o', ['task.status_changed'], 100, 10)).map((d) => JSON.parse(d.body));

describe('agent-approvals consumer', () => {
  it('parks a task for approval and resumes it when approved, announcing each change', async () => {
    const taskId = await newTask();
    const approvalId = randomUUID();
    await emit(ApprovalRequested, { approvalId, taskId, riskLevel: 'HIGH' }, approvalId);
    await eventually(async () => (await statusOf(taskId)) === 'WAITING_FOR_APPROVAL', 'waiting');
    await emit(
      ApprovalDecided,
      { approvalId, taskId, decision: 'APPROVED', decidedBy: 'bob@acme' },
      approvalId,
    );
    await eventually(async () => (await statusOf(taskId)) === 'RUNNING', 'running');
    const seen: { payload: unknown; actor: unknown; onBehalfOf: unknown }[] = [];
    await eventually(async () => {
      seen.push(...(await changes()));
      return seen.length >= 2;
    }, 'two task.status_changed events');
    expect(seen.map((e) => e.payload)).toEqual([
      {
        taskId,
        from: 'PENDING',
        to: 'WAITING_FOR_APPROVAL',
        reason: `approval ${approvalId} requested (HIGH)`,
      },
      {
        taskId,
        from: 'WAITING_FOR_APPROVAL',
        to: 'RUNNING',
        reason: `approval ${approvalId} approved by bob@acme`,
      },
    ]);
    for (const change of seen) {
      expect(change).toMatchObject({
        actor: { kind: 'service', id: devServiceId(AGENT), name: AGENT },
        onBehalfOf: { id: acme.actor.id, name: acme.actor.name },
      });
    }
    // One audit record per effect, in its transaction: the agent's verified identity for alice.
    const audit = await db.asSuperuser<Record<string, string>>(
      `select actor_kind, actor_id, actor, on_behalf_of, action, target_type, target_id, outcome,
              input_summary::text as input
         from audit.audit_events where tenant_id = $1 and target_id = $2 order by seq`,
      [acme.tenantId, approvalId],
    );
    const onBehalfOf = `${acme.actor.name} (${acme.actor.id})`;
    expect(audit.map(({ input: _, ...row }) => row)).toEqual(
      ['agent-approvals.approval.requested', 'agent-approvals.approval.decided'].map((action) => ({
        actor_kind: 'service',
        actor_id: devServiceId(AGENT),
        actor: AGENT,
        on_behalf_of: onBehalfOf,
        action,
        target_type: 'ApprovalRequest',
        target_id: approvalId,
        outcome: 'success',
      })),
    );
    expect(JSON.parse(audit[1]!.input!)).toMatchObject({ type: 'approval.decided' });
  });

  it('keeps the original user as on-behalf-of when a service published the event for them', async () => {
    const taskId = await newTask();
    const approvalId = randomUUID();
    // an event a service published for alice: the effect is still on alice's behalf
    await withTenant(orm, acme.tenantId, (em) =>
      publish(em, ApprovalRequested, {
        tenantId: acme.tenantId,
        actor: { kind: 'service', id: randomUUID(), name: 'approvals-service' },
        onBehalfOf: { id: acme.actor.id, name: acme.actor.name },
        aggregate: { type: 'ApprovalRequest', id: approvalId },
        payload: { approvalId, taskId, riskLevel: 'SAFE' },
      }),
    );
    await eventually(async () => (await statusOf(taskId)) === 'WAITING_FOR_APPROVAL', 'waiting');
    const audit = await db.asSuperuser<{ on_behalf_of: string }>(
      'select on_behalf_of from audit.audit_events where target_id = $1',
      [approvalId],
    );
    expect(audit).toEqual([{ on_behalf_of: `${acme.actor.name} (${acme.actor.id})` }]);
  });

  it('cancels a rejected task, even when the decision arrives before the request was applied', async () => {
    const taskId = await newTask();
    const approvalId = randomUUID();
    await emit(
      ApprovalDecided,
      { approvalId, taskId, decision: 'REJECTED', decidedBy: 'bob@acme' },
      approvalId,
    );
    await emit(ApprovalRequested, { approvalId, taskId, riskLevel: 'MEDIUM' }, approvalId);
    await eventually(async () => (await statusOf(taskId)) === 'CANCELLED', 'cancelled');
    expect(worker.counters.deadLettered).toBe(0);
  });

  it('dead-letters an approval for a task that does not exist', async () => {
    const approvalId = randomUUID();
    await emit(ApprovalRequested, { approvalId, taskId: randomUUID(), riskLevel: 'HIGH' }, approvalId);
    await eventually(async () => worker.counters.deadLettered === 1, 'dead-lettered');
  });
});
