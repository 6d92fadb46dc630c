import pg from 'pg';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { ConfigError } from '#kernel/errors.ts';
import { loadKnowledgeConfig } from '../src/config.ts';
import { assertEmbeddingColumn } from '../src/embeddings/create-embedder.ts';
import { type Embedder, EmbeddingError } from '../src/embeddings/embedder.ts';
import { HashedTrigramEmbedder } from '../src/embeddings/hashed-embedder.ts';
import { OpenAiEmbedder } from '../src/embeddings/openai-embedder.ts';
import { eventually, useIngestSuite } from './support.ts';

/** Hashed trigrams, except that a passage containing POISON always fails (an embedding outage for it). */
class PoisonedEmbedder implements Embedder {
  readonly model = 'hashed-trigram-512';
  readonly dimensions = 512;
  readonly #inner = new HashedTrigramEmbedder(512);
  async embed(texts: readonly string[]): Promise<number[][]> {
    if (texts.some((t) => t.includes('POISON')))
      throw new EmbeddingError('the provider keeps failing on this text');
    return this.#inner.embed(texts);
  }
}

const suite = useIngestSuite({ embedder: new PoisonedEmbedder() });

const count = (tenantId: string, sql: string, params: unknown[] = []) =>
  withTenant(suite.orm, tenantId, async (em) =>
    Number((await em.execute<{ n: string }[]>(sql, params))[0]!.n),
  );

describe('dedupe, versions, deletion', () => {
  it('the same content in the same tenant is the same document, with one copy of its chunks', async () => {
    const alice = await suite.identity('acme');
    const first = await suite.ingest(alice, { title: 'Handbook', text: 'Identical content for dedupe.' });
    await suite.finished(alice, first);
    const second = await suite.ingest(alice, {
      title: 'Handbook again',
      text: 'Identical content for dedupe.',
    });
    expect(second).toBe(first);
    expect(
      await count(alice.tenantId, 'select count(*) as n from knowledge.chunks where document_id = ?', [
        first,
      ]),
    ).toBe(1);
    // Another tenant's identical content is its own document.
    const bob = await suite.identity('umbrella', 'bob');
    const theirs = await suite.ingest(bob, { title: 'Handbook', text: 'Identical content for dedupe.' });
    expect(theirs).not.toBe(first);
  });

  it('new content for a source becomes a new version; only the newest READY one is current', async () => {
    const alice = await suite.identity('acme');
    const sourceUri = 'file:///docs/runbook.md';
    const v1 = await suite.ingest(alice, {
      title: 'Runbook',
      text: '# Runbook\n\nRestart the service.',
      sourceUri,
    });
    await suite.finished(alice, v1);
    const v2 = await suite.ingest(alice, {
      title: 'Runbook',
      text: '# Runbook\n\nRestart the service twice.',
      sourceUri,
    });
    const unchanged = await suite.ingest(alice, {
      title: 'Runbook',
      text: '# Runbook\n\nRestart the service twice.',
      sourceUri,
    });
    expect(unchanged).toBe(v2);
    expect(await suite.finished(alice, v2)).toMatchObject({ version: 2, current: true, status: 'READY' });
    const listed = await suite.knowledge.execute(
      alice,
      'query ($id: ID!) { document(id: $id) { versions { id version current } } documents(first: 100) { edges { node { id } } } }',
      { id: v1 },
    );
    const data = listed.data as {
      document: { versions: { id: string; version: number; current: boolean }[] };
      documents: { edges: { node: { id: string } }[] };
    };
    expect(data.document.versions).toEqual([
      { id: v2, version: 2, current: true },
      { id: v1, version: 1, current: false },
    ]);
    const ids = data.documents.edges.map((e) => e.node.id);
    expect(ids).toContain(v2);
    expect(ids).not.toContain(v1);
  });

  it('deleteDocument removes every version, their chunks and stored bytes, and is audited', async () => {
    const alice = await suite.identity('acme');
    const sourceUri = 'https://intranet/policy';
    const v1 = await suite.ingest(alice, { title: 'Policy', text: 'Version one of the policy.', sourceUri });
    await suite.finished(alice, v1);
    const v2 = await suite.ingest(alice, { title: 'Policy', text: 'Version two of the policy.', sourceUri });
    await suite.finished(alice, v2);
    const deleted = await suite.knowledge.execute(
      alice,
      'mutation ($id: ID!) { deleteDocument(id: $id) { id deletedVersions } }',
      {
        id: v2,
      },
    );
    expect(deleted).toEqual({ data: { deleteDocument: { id: v2, deletedVersions: 2 } } });
    const t = alice.tenantId;
    expect(
      await count(t, 'select count(*) as n from knowledge.documents where source_uri = ?', [sourceUri]),
    ).toBe(0);
    expect(
      await count(t, 'select count(*) as n from knowledge.chunks where document_id in (?, ?)', [v1, v2]),
    ).toBe(0);
    expect(
      await count(
        t,
        `select count(*) as n from knowledge.document_blobs where sha256 in
           (encode(sha256(convert_to('Version one of the policy.', 'UTF8')), 'hex'), encode(sha256(convert_to('Version two of the policy.', 'UTF8')), 'hex'))`,
      ),
    ).toBe(0);
    expect(
      await count(
        t,
        `select count(*) as n from audit.audit_events where action = 'knowledge.deleteDocument' and target_id = ?`,
        [v2],
      ),
    ).toBe(1);
    const again = await suite.knowledge.execute(
      alice,
      'mutation ($id: ID!) { deleteDocument(id: $id) { id } }',
      { id: v2 },
    );
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a Reader may not ingest or delete', async () => {
    const reader = await suite.identity('acme', 'rita', ['Reader']);
    const result = await suite.knowledge.execute(
      reader,
      'mutation { ingestDocument(input: {title: "x", text: "y"}) { id } }',
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('poison documents', () => {
  it('fail after 3 attempts: FAILED with the reason, the event dead-lettered, the worker still up', async () => {
    const alice = await suite.identity('acme');
    const id = await suite.ingest(alice, {
      title: 'Poison',
      text: 'This passage is POISON for the provider.',
    });
    const doc = await suite.finished(alice, id);
    expect(doc.status).toBe('FAILED');
    expect(doc.error).toMatch(
      /^ingestion failed 3 times: EmbeddingError: the provider keeps failing on this text$/,
    );
    await eventually(async () => {
      const letters = await suite.transport.listDeadLetters({ stream: 'document.uploaded', limit: 100 });
      return letters.some((l) => JSON.parse(l.body).payload.documentId === id && l.attempts === 3);
    }, 'the dead letter');
    const ok = await suite.ingest(alice, { title: 'Fine', text: 'A healthy document.' });
    expect((await suite.finished(alice, ok)).status).toBe('READY');
  });
});

describe('tenant isolation of documents, chunks and stored bytes', () => {
  it('as the application role, another tenant sees no row, and no tenant context sees nothing', async () => {
    const alice = await suite.identity('acme');
    const id = await suite.ingest(alice, { title: 'Secret', text: 'Only acme may read this.' });
    await suite.finished(alice, id);
    const mallory = await suite.identity('umbrella', 'mallory');
    const client = new pg.Client({ connectionString: suite.db.appUrl });
    await client.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [mallory.tenantId]);
      for (const table of ['knowledge.documents', 'knowledge.chunks', 'knowledge.document_blobs']) {
        const { rows } = await client.query(`select count(*)::int as n from ${table} where tenant_id = $1`, [
          alice.tenantId,
        ]);
        expect([table, rows[0].n]).toEqual([table, 0]);
      }
      await expect(
        client.query(
          `insert into knowledge.document_blobs (tenant_id, sha256, size, content) values ($1, repeat('a', 64), 1, '\\x00')`,
          [alice.tenantId],
        ),
      ).rejects.toThrow(/row-level security/);
      await client.query('rollback');
    } finally {
      await client.end();
    }
    const fresh = new pg.Client({ connectionString: suite.db.appUrl });
    await fresh.connect();
    try {
      await expect(fresh.query('select count(*) from knowledge.document_blobs')).rejects.toThrow(
        // PGlite's one shared session keeps an emptied setting: the cast fails instead.
        /app\.tenant_id|invalid input syntax for type uuid/,
      );
    } finally {
      await fresh.end();
    }
  });
});

describe('configuration', () => {
  it('refuses to start when the embedder does not fit the vector column', async () => {
    const wide = new OpenAiEmbedder({
      endpoint: 'http://127.0.0.1:9/v1',
      model: 'text-embedding-3-large',
      dimensions: 3072,
      batchSize: 8,
      timeoutMs: 1000,
      maxRetries: 0,
    });
    await expect(assertEmbeddingColumn(suite.orm.em.fork(), wide)).rejects.toThrow(ConfigError);
    await expect(assertEmbeddingColumn(suite.orm.em.fork(), wide)).rejects.toThrow(
      /the embedder openai:text-embedding-3-large makes 3072-dimensional vectors but knowledge\.chunks\.embedding is vector\(512\)/,
    );
  });

  it('names each bad variable', () => {
    expect(() =>
      loadKnowledgeConfig({
        KNOWLEDGE_MAX_DOCUMENT_BYTES: 'lots',
        EMBEDDINGS_PROVIDER: 'magic',
      }),
    ).toThrow(
      /KNOWLEDGE_MAX_DOCUMENT_BYTES must be a whole number[\s\S]*EMBEDDINGS_PROVIDER must be one of use, hashed, openai/,
    );
    expect(() =>
      loadKnowledgeConfig({ KNOWLEDGE_CHUNK_TOKENS: '64', KNOWLEDGE_CHUNK_OVERLAP_TOKENS: '40' }),
    ).toThrow(/KNOWLEDGE_CHUNK_OVERLAP_TOKENS must be under half of KNOWLEDGE_CHUNK_TOKENS/);
    expect(() => loadKnowledgeConfig({ EMBEDDINGS_PROVIDER: 'openai' })).toThrow(
      /EMBEDDINGS_ENDPOINT must be set[\s\S]*EMBEDDINGS_MODEL must be set/,
    );
    expect(loadKnowledgeConfig({})).toMatchObject({
      maxDocumentBytes: 20 * 1024 * 1024,
      embeddings: { provider: 'use', dimensions: 512 },
    });
  });
});
