import { randomUUID } from 'node:crypto';
import { actorOf, recordAudit } from '#kernel/audit/audit-log.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { auditSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let audit: SubgraphHarness;
let alice: Identity;
let mallory: Identity;
let auditor: Identity;
let reader: Identity;
let firstId: string;

async function record(who: Identity, action: string, targetId: string, input?: unknown): Promise<string> {
  return withTenant(audit.orm, who.tenantId, (em) =>
    recordAudit(em, who.tenantId, {
      actor: actorOf(who),
      action,
      targetType: 'Task',
      targetId,
      outcome: 'success',
      requestId: 'req-1',
      input,
    }),
  );
}

/** Tampers as the database superuser would: triggers off for this one transaction. */
function asSuperuserWithoutTriggers(statement: string) {
  return db.asSuperuser(
    `do $$ begin perform set_config('session_replication_role', 'replica', true); ${statement}; end $$`,
  );
}

const EVENTS = `query ($filter: AuditEventFilter) { auditEvents(filter: $filter) { edges { node {
  id sequence actorKind actorId actor action targetType targetId outcome requestId inputSummary hash previousHash } } } }`;

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
  alice = await audit.identity('acme');
  auditor = await audit.identity('acme', 'audrey', ['Auditor']);
  reader = await audit.identity('acme', 'rita', ['Reader']);
  mallory = await audit.identity('umbrella', 'mallory');
  firstId = await record(alice, 'agent.createTask', 't-1', {
    input: { title: 'Ship it', password: 'hunter2' },
  });
  await record(alice, 'agent.cancelTask', 't-1');
  await record(mallory, 'agent.createTask', 'm-1');
});
afterAll(async () => {
  await audit?.close();
  await db?.close();
});

describe('audit subgraph', () => {
  it("lists the tenant's audit events newest first, chained, with secrets redacted", async () => {
    const result = await audit.execute(auditor, EVENTS);
    const nodes = (result.data!.auditEvents as { edges: { node: Record<string, unknown> }[] }).edges.map(
      (e) => e.node,
    );
    expect(nodes.map((n) => [n.sequence, n.action])).toEqual([
      [2, 'agent.cancelTask'],
      [1, 'agent.createTask'],
    ]);
    expect(nodes[1]).toMatchObject({
      id: firstId,
      actorKind: 'USER',
      actorId: alice.subjectId,
      actor: 'alice@acme',
      outcome: 'SUCCESS',
      requestId: 'req-1',
      previousHash: '0'.repeat(64),
    });
    expect(JSON.parse(String(nodes[1]?.inputSummary))).toEqual({
      input: { title: 'Ship it', password: '[redacted]' },
    });
    expect(nodes[0]?.previousHash).toBe(nodes[1]?.hash);
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('filters by actor, action, target and time', async () => {
    const by = async (filter: Record<string, unknown>) => {
      const result = await audit.execute(auditor, EVENTS, { filter });
      return (result.data!.auditEvents as { edges: { node: { action: string } }[] }).edges.map(
        (e) => e.node.action,
      );
    };
    expect(await by({ action: 'agent.cancelTask' })).toEqual(['agent.cancelTask']);
    expect(await by({ actor: alice.subjectId })).toHaveLength(2);
    expect(await by({ actor: 'alice@acme', targetId: 't-1', targetType: 'Task' })).toHaveLength(2);
    expect(await by({ actor: 'nobody' })).toEqual([]);
    expect(await by({ outcome: 'DENIED' })).toEqual([]);
    expect(await by({ from: '2000-01-01T00:00:00Z', to: '2001-01-01T00:00:00Z' })).toEqual([]);
    const bad = await audit.execute(auditor, EVENTS, {
      filter: { from: '2030-01-01T00:00:00Z', to: '2020-01-01T00:00:00Z' },
    });
    expect(bad.errors?.[0]?.message).toMatch(/from .* must be before to/);
  });

  it('hides every row from another tenant, also through _entities', async () => {
    const mine = await audit.execute(mallory, EVENTS);
    expect(JSON.stringify(mine)).not.toContain(firstId);
    const query =
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on AuditEvent { id action } } }';
    const representations = { r: [{ __typename: 'AuditEvent', id: firstId }] };
    expect(await audit.execute(alice, query, representations)).toEqual({
      data: { _entities: [{ id: firstId, action: 'agent.createTask' }] },
    });
    expect(await audit.execute(mallory, query, representations)).toEqual({ data: { _entities: [null] } });
  });

  it('refuses readers, naming the roles needed, and records the denial', async () => {
    const result = await audit.execute(reader, EVENTS);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({
      message: 'Query.auditEvents requires one of the roles Auditor, Admin; the caller has Reader',
      extensions: { code: 'FORBIDDEN', requiredRoles: ['Auditor', 'Admin'] },
    });
    const denied = await audit.execute(auditor, EVENTS, { filter: { outcome: 'DENIED' } });
    expect(denied.data?.auditEvents).toEqual({
      edges: [
        {
          node: expect.objectContaining({
            action: 'audit.auditEvents',
            actor: 'rita@acme',
            outcome: 'DENIED',
          }),
        },
      ],
    });
  });

  it('exports a time range as JSON Lines, oldest first', async () => {
    const result = await audit.execute(
      auditor,
      'query ($from: DateTime!, $to: DateTime!) { exportAuditEvents(from: $from, to: $to) { jsonLines count } }',
      { from: '2020-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z' },
    );
    const exported = result.data?.exportAuditEvents as { jsonLines: string; count: number };
    const lines = exported.jsonLines
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(exported.count).toBe(lines.length);
    expect(lines.map((l) => l.sequence)).toEqual(lines.map((_, i) => i + 1));
    expect(lines[0]).toMatchObject({ id: firstId, tenantId: alice.tenantId, action: 'agent.createTask' });
    expect(lines.every((l) => l.tenantId === alice.tenantId)).toBe(true);
  });
});

describe('audit chain', () => {
  const VERIFY =
    '{ verifyAuditChain { ok checked firstBroken { id sequence } firstBrokenSequence problem } }';

  it('verifies an intact chain', async () => {
    const result = await audit.execute(auditor, VERIFY);
    expect(result.errors).toBeUndefined();
    expect(result.data?.verifyAuditChain).toMatchObject({ ok: true, firstBroken: null, problem: null });
    expect((result.data!.verifyAuditChain as { checked: number }).checked).toBeGreaterThanOrEqual(2);
  });

  it('refuses UPDATE, DELETE and TRUNCATE by the application role', async () => {
    for (const sql of [
      'update audit.audit_events set actor = $$x$$',
      'delete from audit.audit_events',
      'truncate audit.audit_events',
    ]) {
      await expect(withTenant(audit.orm, alice.tenantId, (em) => em.execute(sql))).rejects.toThrow(
        /permission denied|append-only/,
      );
    }
  });

  it('ignores a caller-chosen sequence and hash', async () => {
    const id = randomUUID();
    await withTenant(audit.orm, alice.tenantId, (em) =>
      em.execute(
        `insert into audit.audit_events (id, tenant_id, actor_kind, actor_id, actor, action, target_type, outcome, seq, prev_hash, hash, at)
         values (?, ?, 'user', 'x', 'x', 'forged', 'Task', 'success', 1, 'f', 'f', '2000-01-01')`,
        [id, alice.tenantId],
      ),
    );
    const [row] = await db.asSuperuser<{ seq: string; hash: string; at: Date }>(
      'select seq, hash, at from audit.audit_events where id = $1',
      [id],
    );
    expect(Number(row?.seq)).toBeGreaterThan(2);
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(String(row?.at)).getFullYear()).toBeGreaterThan(2000);
  });

  it('names the row a database superuser altered', async () => {
    const victim = await record(alice, 'governance.decideApproval', 'a-9');
    await record(alice, 'agent.createTask', 't-10');
    await asSuperuserWithoutTriggers(
      `update audit.audit_events set actor = 'someone-else' where id = '${victim}'`,
    );
    const result = await audit.execute(auditor, VERIFY);
    expect(result.data?.verifyAuditChain).toMatchObject({
      ok: false,
      firstBroken: { id: victim },
      problem: expect.stringMatching(/does not match its hash/),
    });
    const other = await audit.execute(await audit.identity('umbrella', 'ursula', ['Auditor']), VERIFY);
    expect(other.data?.verifyAuditChain).toMatchObject({ ok: true });
  });

  it('names the gap where a superuser deleted rows', async () => {
    const tenantAuditor = await audit.identity('globex', 'gail', ['Auditor']);
    const g = await audit.identity('globex', 'gus');
    await record(g, 'a', '1');
    const gone = await record(g, 'b', '2');
    const after = await record(g, 'c', '3');
    await asSuperuserWithoutTriggers(`delete from audit.audit_events where id = '${gone}'`);
    const result = await audit.execute(tenantAuditor, VERIFY);
    expect(result.data?.verifyAuditChain).toMatchObject({
      ok: false,
      firstBroken: { id: after },
      firstBrokenSequence: 3,
      problem: 'rows 2 to 2 before it are missing',
    });
  });
});
