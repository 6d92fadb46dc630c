// Document.chunks: a window of a document's passages in order, what the console shows around a citation.
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
const manual = randomUUID();
const CHUNKS =
  'query ($id: ID!, $from: Int, $first: Int) { document(id: $id) { chunks(fromOrdinal: $from, first: $first) { ordinal text document { id } } } }';

beforeAll(async () => {
  db = await createTestDatabase();
  knowledge = await createSubgraphHarness(knowledgeSubgraph, db);
  alice = await knowledge.identity('acme');
  mallory = await knowledge.identity('umbrella', 'mallory');
  const vector = JSON.stringify([1, ...new Array<number>(511).fill(0)]);
  await withTenant(knowledge.orm, alice.tenantId, async (em) => {
    await em.execute(
      `insert into knowledge.documents (id, tenant_id, title, mime_type, status, created_by, created_at)
       values (?, ?, 'Manual', 'text/plain', 'READY', ?, now())`,
      [manual, alice.tenantId, alice.subjectId],
    );
    // Inserted out of order: the field orders by ordinal, not by insertion.
    for (const ordinal of [3, 0, 4, 1, 2]) {
      await em.execute(
        `insert into knowledge.chunks (id, tenant_id, document_id, ordinal, content, embedding, embedding_model, created_at)
         values (?, ?, ?, ?, ?, ?::vector, 'test', now())`,
        [randomUUID(), alice.tenantId, manual, ordinal, `passage ${ordinal}`, vector],
      );
    }
  });
});
afterAll(async () => {
  await knowledge?.close();
  await db?.close();
});

describe('knowledge subgraph: Document.chunks', () => {
  it('returns the passages in document order, from an ordinal, at most first', async () => {
    const all = await knowledge.execute(alice, CHUNKS, { id: manual });
    expect(all).toEqual({
      data: {
        document: {
          chunks: [0, 1, 2, 3, 4].map((n) => ({
            ordinal: n,
            text: `passage ${n}`,
            document: { id: manual },
          })),
        },
      },
    });
    const window = await knowledge.execute(alice, CHUNKS, { id: manual, from: 2, first: 2 });
    expect(window).toMatchObject({
      data: { document: { chunks: [{ ordinal: 2 }, { ordinal: 3 }] } },
    });
  });

  it('shows nothing of it to another tenant, even through _entities', async () => {
    const entities = await knowledge.execute(
      mallory,
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Document { chunks { text } } } }',
      { r: [{ __typename: 'Document', id: manual }] },
    );
    expect(entities).toEqual({ data: { _entities: [null] } });
  });

  it('refuses a window out of range with a clear message', async () => {
    for (const [variables, message] of [
      [{ from: -1 }, 'fromOrdinal must be 0 or more (got -1)'],
      [{ first: 0 }, 'first must be from 1 to 100 (got 0)'],
      [{ first: 101 }, 'first must be from 1 to 100 (got 101)'],
    ] as const) {
      const result = (await knowledge.execute(alice, CHUNKS, { id: manual, ...variables })) as {
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      expect(result.errors?.map((e) => [e.message, e.extensions?.code])).toEqual([
        [message, 'BAD_USER_INPUT'],
      ]);
    }
  });
});
