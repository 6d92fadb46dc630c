import { randomUUID } from 'node:crypto';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#kernel/testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#kernel/testing/test-database.ts';
import { auditSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let audit: SubgraphHarness;
let alice: Identity;
let mallory: Identity;
const eventId = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
  alice = await audit.identity('acme');
  mallory = await audit.identity('umbrella', 'mallory');
  await withTenant(audit.orm, alice.tenantId, (em) =>
    em.execute(
      `insert into audit.audit_events (id, tenant_id, actor, action, target_type, target_id, at)
       values (?, ?, 'alice@acme', 'task.create', 'Task', 't-1', ?)`,
      [eventId, alice.tenantId, new Date('2026-11-25T10:00:00Z')],
    ),
  );
});
afterAll(async () => {
  await audit?.close();
  await db?.close();
});

describe('audit subgraph', () => {
  it("lists the tenant's audit events and hides them from others", async () => {
    const query = '{ auditEvents { edges { node { id actor action targetType targetId at } } } }';
    expect(await audit.execute(alice, query)).toEqual({
      data: {
        auditEvents: {
          edges: [
            {
              node: {
                id: eventId,
                actor: 'alice@acme',
                action: 'task.create',
                targetType: 'Task',
                targetId: 't-1',
                at: '2026-11-25T10:00:00.000Z',
              },
            },
          ],
        },
      },
    });
    expect(await audit.execute(mallory, query)).toEqual({ data: { auditEvents: { edges: [] } } });
  });

  it('resolves events through _entities only within the tenant', async () => {
    const query =
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on AuditEvent { id action } } }';
    const representations = { r: [{ __typename: 'AuditEvent', id: eventId }] };
    expect(await audit.execute(alice, query, representations)).toEqual({
      data: { _entities: [{ id: eventId, action: 'task.create' }] },
    });
    expect(await audit.execute(mallory, query, representations)).toEqual({ data: { _entities: [null] } });
  });
});
