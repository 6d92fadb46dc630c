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

  it("orders the tenant's chunks by cosine distance to the query, nearest first, and sees no other tenant's", async () => {
    // Unit vectors in the plane of the first two axes, at known angles to the query (axis 0):
    // cosine distance = 1 - cos(angle).
    const at = (degrees: number) => {
      const v = new Array<number>(512).fill(0);
      v[0] = Math.cos((degrees * Math.PI) / 180);
      v[1] = Math.sin((degrees * Math.PI) / 180);
      return JSON.stringify(v);
    };
    const query = at(0);
    const chunks: [content: string, degrees: number][] = [
      ['orthogonal', 90],
      ['close', 30],
      ['opposite', 180],
      ['same direction', 0],
      ['far', 120],
      ['near', 60],
    ];
    const insert = (tenantId: string, documentId: string, ordinal: number, content: string, vector: string) =>
      withTenant(knowledge.orm, tenantId, (em) =>
        em.execute(
          `insert into knowledge.chunks (id, tenant_id, document_id, ordinal, content, embedding, embedding_model, created_at)
           values (?, ?, ?, ?, ?, ?::vector, 'test', now())`,
          [randomUUID(), tenantId, documentId, ordinal, content, vector],
        ),
      );
    for (const [ordinal, [content, degrees]] of chunks.entries()) {
      await insert(alice.tenantId, handbook, ordinal, content, at(degrees));
    }
    // Mallory's chunk is exactly the query: nearer than any of Alice's, and invisible to her.
    const memo = randomUUID();
    await withTenant(knowledge.orm, mallory.tenantId, (em) =>
      em.execute(
        `insert into knowledge.documents (id, tenant_id, title, mime_type, status, created_by, created_at)
         values (?, ?, 'Memo', 'text/plain', 'READY', ?, now())`,
        [memo, mallory.tenantId, mallory.subjectId],
      ),
    );
    await insert(mallory.tenantId, memo, 0, 'secret of umbrella', query);

    const nearest = await withTenant(knowledge.orm, alice.tenantId, (em) =>
      em.execute<{ content: string; distance: number }[]>(
        'select content, embedding <=> ?::vector as distance from knowledge.chunks order by embedding <=> ?::vector limit 4',
        [query, query],
      ),
    );
    expect(nearest.map((r) => r.content)).toEqual(['same direction', 'close', 'near', 'orthogonal']);
    const expected = [0, 30, 60, 90].map((d) => 1 - Math.cos((d * Math.PI) / 180));
    for (const [n, row] of nearest.entries()) expect(Number(row.distance)).toBeCloseTo(expected[n]!, 5);

    const foreign = await withTenant(knowledge.orm, mallory.tenantId, (em) =>
      em.execute<{ content: string }[]>(
        'select content from knowledge.chunks order by embedding <=> ?::vector',
        [query],
      ),
    );
    expect(foreign.map((r) => r.content)).toEqual(['secret of umbrella']);
  });
});
