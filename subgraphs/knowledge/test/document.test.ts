import { randomUUID } from 'node:crypto';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { knowledgeSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let knowledge: SubgraphHarness;
let alice: Identity;
let mallory: Identity;
const handbook = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  knowledge = await createSubgraphHarness(knowledgeSubgraph, db);
  alice = await knowledge.identity('acme');
  mallory = await knowledge.identity('umbrella', 'mallory');
  await withTenant(knowledge.orm, alice.tenantId, (em) =>
    em.execute(
      `insert into knowledge.documents (id, tenant_id, title, mime_type, status, created_by, created_at)
       values (?, ?, 'Handbook', 'application/pdf', 'READY', ?, ?)`,
      [handbook, alice.tenantId, alice.subjectId, new Date('2026-11-25T10:00:00Z')],
    ),
  );
});
afterAll(async () => {
  await knowledge?.close();
  await db?.close();
});

describe('knowledge subgraph: documents', () => {
  it("lists the tenant's documents", async () => {
    expect(
      await knowledge.execute(
        alice,
        '{ documents { edges { node { id title mimeType status createdAt } } } }',
      ),
    ).toEqual({
      data: {
        documents: {
          edges: [
            {
              node: {
                id: handbook,
                title: 'Handbook',
                mimeType: 'application/pdf',
                status: 'READY',
                createdAt: '2026-11-25T10:00:00.000Z',
              },
            },
          ],
        },
      },
    });
  });

  it('hides them from another tenant, in lists, by id and through _entities', async () => {
    expect(await knowledge.execute(mallory, '{ documents { edges { node { id } } } }')).toEqual({
      data: { documents: { edges: [] } },
    });
    expect(
      await knowledge.execute(mallory, 'query ($id: ID!) { document(id: $id) { id } }', { id: handbook }),
    ).toEqual({
      data: { document: null },
    });
    const entities = await knowledge.execute(
      mallory,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Document { id } } }',
      { r: [{ __typename: 'Document', id: handbook }] },
    );
    expect(entities).toEqual({ data: { _entities: [null] } });
  });

  it('stores a chunk embedding for its own tenant and finds it by cosine distance', async () => {
    const vector = Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 0));
    const nearest = await withTenant(knowledge.orm, alice.tenantId, async (em) => {
      await em.execute(
        `insert into knowledge.chunks (id, tenant_id, document_id, ordinal, content, embedding, embedding_model, created_at)
         values (?, ?, ?, 0, 'Welcome aboard', ?::vector, 'test', now())`,
        [randomUUID(), alice.tenantId, handbook, JSON.stringify(vector)],
      );
      return em.execute<{ content: string }[]>(
        'select content from knowledge.chunks order by embedding <=> ?::vector limit 1',
        [JSON.stringify(vector)],
      );
    });
    expect(nearest).toEqual([{ content: 'Welcome aboard' }]);
    const foreign = await withTenant(knowledge.orm, mallory.tenantId, (em) =>
      em.execute('select id from knowledge.chunks'),
    );
    expect(foreign).toEqual([]);
  });
});
