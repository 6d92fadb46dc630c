// Re-embedding from the hashed baseline into the Universal Sentence Encoder (both 512-d): vectors are
// staged while the chunks keep their old ones, then each tenant switches in one transaction, chunks
// written meanwhile included; other tenants stay as they were until their turn.
import { withTenant } from '#kernel/db/tenant-context.ts';
import {
  pendingTenants,
  remainingToStage,
  stageBatch,
  switchTenant,
} from '../../src/domain/reembed.service.ts';
import { HashedTrigramEmbedder } from '../../src/embeddings/hashed-embedder.ts';
import { UniversalSentenceEncoder } from '../../src/embeddings/use-embedder.ts';
import { embeddingText } from '../../src/ingest/chunker.ts';
import { useIngestSuite } from '../support.ts';

const suite = useIngestSuite({ env: { KNOWLEDGE_CHUNK_TOKENS: '32', KNOWLEDGE_CHUNK_OVERLAP_TOKENS: '4' } });
const use = new UniversalSentenceEncoder();
const hashed = new HashedTrigramEmbedder(512);

type Row = { id: string; content: string; heading_path: string; embedding_model: string; embedding: string };
const chunks = (tenantId: string) =>
  withTenant(suite.orm, tenantId, (em) =>
    em.execute<Row[]>(
      'select id, content, heading_path, embedding_model, embedding::text from knowledge.chunks order by id',
    ),
  );
const staged = (tenantId: string) =>
  withTenant(suite.orm, tenantId, (em) =>
    em.execute<{ n: number }[]>('select count(*)::int as n from knowledge.chunk_embeddings_next'),
  );
/** The largest difference between each chunk's stored vector and `embedder`'s vector of its text. */
async function offBy(rows: Row[], embedder: { embed(t: string[]): Promise<number[][]> }): Promise<number> {
  const want = await embedder.embed(
    rows.map((r) => embeddingText({ headingPath: r.heading_path, content: r.content })),
  );
  return Math.max(
    ...rows.flatMap((r, i) =>
      (JSON.parse(r.embedding) as number[]).map((x, k) => Math.abs(x - want[i]![k]!)),
    ),
  );
}

const TEXT = (topic: string) =>
  `# ${topic}\n\nThe ${topic} service answers questions about ${topic}. It keeps a log of every request.\n\n` +
  `## Settings\n\nPort, timeout and retries are read at start. A bad value stops it with a message naming it.\n`;

describe('re-embedding into another model', () => {
  it('stages new vectors without touching the searched ones, then switches a tenant at once', async () => {
    const alice = await suite.identity('acme', 'alice', ['Contributor']);
    const bob = await suite.identity('globex', 'bob', ['Contributor']);
    const submitted = [
      [
        alice,
        await suite.ingest(alice, { title: 'Billing', text: TEXT('billing'), mimeType: 'text/markdown' }),
      ],
      [
        alice,
        await suite.ingest(alice, { title: 'Search', text: TEXT('search'), mimeType: 'text/markdown' }),
      ],
      [bob, await suite.ingest(bob, { title: 'Mail', text: TEXT('mail'), mimeType: 'text/markdown' })],
    ] as const;
    for (const [who, id] of submitted) expect((await suite.finished(who, id)).status).toBe('READY');
    const before = await chunks(alice.tenantId);
    const globexBefore = await chunks(bob.tenantId);
    expect(before.length).toBeGreaterThan(2);
    expect(new Set(before.map((c) => c.embedding_model))).toEqual(new Set([hashed.model]));

    const pending = await pendingTenants(suite.orm.em.fork(), use.model);
    expect(pending).toEqual(
      expect.arrayContaining([
        { tenantId: alice.tenantId, pending: before.length },
        { tenantId: bob.tenantId, pending: globexBefore.length },
      ]),
    );

    // Stage acme in batches of 2: the chunks keep the vectors search reads.
    expect(await withTenant(suite.orm, alice.tenantId, (em) => remainingToStage(em, use.model))).toBe(
      before.length,
    );
    let lastId: string | undefined;
    let total = 0;
    for (;;) {
      const step = await withTenant(suite.orm, alice.tenantId, (em) =>
        stageBatch(em, alice.tenantId, use, lastId, 2),
      );
      if (step.staged === 0) break;
      total += step.staged;
      lastId = step.lastId;
    }
    expect(total).toBe(before.length);
    expect((await staged(alice.tenantId))[0]!.n).toBe(before.length);
    expect(await chunks(alice.tenantId)).toEqual(before);
    expect(await withTenant(suite.orm, alice.tenantId, (em) => remainingToStage(em, use.model))).toBe(0);

    // A document indexed meanwhile by a worker still on the old model: the switch takes it along.
    const late = await suite.ingest(alice, { title: 'Late', text: TEXT('late'), mimeType: 'text/markdown' });
    expect((await suite.finished(alice, late)).status).toBe('READY');
    const lateChunks = (await chunks(alice.tenantId)).length - before.length;
    expect(lateChunks).toBeGreaterThan(0);

    const result = await withTenant(suite.orm, alice.tenantId, async (em) => {
      const switched = await switchTenant(em, use);
      if (suite.db.kind !== 'pglite') {
        // Another session (search) still reads the old vectors until this transaction commits.
        const seen = await chunks(alice.tenantId);
        expect(new Set(seen.map((c) => c.embedding_model))).toEqual(new Set([hashed.model]));
      }
      return switched;
    });
    expect(result).toEqual({ switched: before.length, stragglers: lateChunks });
    const after = await chunks(alice.tenantId);
    expect(new Set(after.map((c) => c.embedding_model))).toEqual(new Set([use.model]));
    expect(await offBy(after, use)).toBeLessThan(1e-4);
    expect((await staged(alice.tenantId))[0]!.n).toBe(0);
    // globex has not had its turn: untouched.
    expect(await chunks(bob.tenantId)).toEqual(globexBefore);
    expect(await offBy(globexBefore, hashed)).toBeLessThan(1e-5);
    expect(await pendingTenants(suite.orm.em.fork(), use.model)).toEqual([
      { tenantId: bob.tenantId, pending: globexBefore.length },
    ]);
  }, 120_000);
});
