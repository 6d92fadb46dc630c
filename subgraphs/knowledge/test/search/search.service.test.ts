import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { CORPUS } from '../fixtures/corpus.ts';
import { useIngestSuite } from '../support.ts';

const suite = useIngestSuite();

const HIT = `chunk { id text headingPath page ordinal document { id title mimeType } } snippet score keywordRank vectorRank`;

interface Hit {
  chunk: {
    id: string;
    text: string;
    headingPath: string;
    document: { id: string; title: string; mimeType: string };
  };
  snippet: string;
  score: number;
  keywordRank: number | null;
  vectorRank: number | null;
}

let alice: Identity;
let bob: Identity;
const ids: Record<string, string> = {};
const bobIds: string[] = [];

async function search(who: Identity, query: string, extra: Record<string, unknown> = {}) {
  const result = await suite.knowledge.execute(
    who,
    `query ($query: String!, $first: Int, $filter: SearchFilter, $mode: SearchMode) {
       search(query: $query, first: $first, filter: $filter, mode: $mode) { ${HIT} } }`,
    { query, ...extra },
  );
  return { hits: (result.data?.search ?? []) as Hit[], errors: result.errors };
}

async function hits(who: Identity, query: string, extra: Record<string, unknown> = {}) {
  const { hits, errors } = await search(who, query, extra);
  expect(errors).toBeUndefined();
  return hits;
}

beforeAll(async () => {
  alice = await suite.identity('acme', 'alice', ['Reader', 'Contributor']);
  bob = await suite.identity('globex', 'bob', ['Reader', 'Contributor']);
  for (const doc of CORPUS) {
    const { key, ...input } = doc;
    ids[key] = await suite.ingest(alice, input);
  }
  // Globex holds its own notes on the same subjects: a leak would surface them in acme's results.
  for (const text of [
    'Globex runs PostgreSQL on port 6543 and keeps max_connections at 400.',
    'Globex Redis uses appendfsync always and the noeviction maxmemory-policy.',
  ]) {
    bobIds.push(await suite.ingest(bob, { title: 'Globex notes', text }));
  }
  for (const id of Object.values(ids)) expect((await suite.finished(alice, id)).status).toBe('READY');
  for (const id of bobIds) expect((await suite.finished(bob, id)).status).toBe('READY');
}, 120_000);

describe('search: ranking and modes', () => {
  it('finds the passage that answers, with both methods ranking it and the fused score their RRF sum', async () => {
    const [top, ...rest] = await hits(alice, 'default port of the PostgreSQL server');
    expect(top!.chunk.document.id).toBe(ids.postgres);
    expect(top!.chunk.text).toContain('5432');
    expect(top!.chunk.headingPath).toBe('PostgreSQL › Connection settings');
    expect(top!.keywordRank).toBe(1);
    expect(top!.vectorRank).toEqual(expect.any(Number));
    const rrf = (r: number | null) => (r === null ? 0 : 1 / (60 + r));
    expect(top!.score).toBeCloseTo(rrf(top!.keywordRank) + rrf(top!.vectorRank), 12);
    for (const hit of rest) expect(hit.score).toBeLessThanOrEqual(top!.score);
  });

  it('KEYWORD uses full text only and VECTOR embeddings only', async () => {
    const keyword = await hits(alice, 'maxmemory eviction policy', { mode: 'KEYWORD' });
    expect(keyword[0]!.chunk.document.id).toBe(ids.redis);
    expect(keyword.every((h) => h.vectorRank === null && h.keywordRank !== null)).toBe(true);
    expect(keyword.map((h) => h.keywordRank)).toEqual(keyword.map((_, i) => i + 1));
    const vector = await hits(alice, 'How does the kubelet decide to restart a container?', {
      mode: 'VECTOR',
    });
    expect(vector[0]!.chunk.document.id).toBe(ids.kubernetes);
    expect(vector.every((h) => h.keywordRank === null && h.vectorRank !== null)).toBe(true);
    // A query no word of which occurs anywhere: keyword finds nothing, vector still ranks everything.
    expect(await hits(alice, 'xylophone quokka', { mode: 'KEYWORD' })).toEqual([]);
    expect((await hits(alice, 'xylophone quokka', { mode: 'VECTOR' })).length).toBeGreaterThan(0);
  });

  it('understands web-search syntax: phrases and exclusions', async () => {
    const phrase = await hits(alice, '"point-in-time snapshots"', { mode: 'KEYWORD' });
    expect(phrase.map((h) => h.chunk.document.id)).toEqual([ids.redis]);
    const excluded = await hits(alice, 'server -redis', { mode: 'KEYWORD' });
    expect(excluded.length).toBeGreaterThan(0);
    expect(excluded.some((h) => h.chunk.document.id === ids.redis)).toBe(false);
  });

  it('stems each document in its own language (Danish) and English by default', async () => {
    const danish = await hits(alice, 'cyklisterne', { mode: 'KEYWORD' });
    expect(danish.map((h) => h.chunk.document.id)).toEqual([ids.danish]);
    // "connection" stems to the same English lexeme as "connections".
    const english = await hits(alice, 'connection', { mode: 'KEYWORD' });
    expect(english[0]!.chunk.document.id).toBe(ids.postgres);
    const configs = await withTenant(suite.orm, alice.tenantId, (em) =>
      em.execute<{ document_id: string; ts_config: string }[]>(
        'select distinct document_id, ts_config::text as ts_config from knowledge.chunks',
      ),
    );
    expect(configs.find((c) => c.document_id === ids.danish)!.ts_config).toBe('danish');
    expect(configs.find((c) => c.document_id === ids.postgres)!.ts_config).toBe('english');
  });

  it('snippets mark the matched words and escape the rest', async () => {
    const [top] = await hits(alice, 'default port 5432');
    expect(top!.snippet).toContain('<mark>5432</mark>');
    expect(top!.snippet).toContain('<mark>port</mark>');
    const id = await suite.ingest(alice, {
      title: 'Markup',
      text: 'Never paste <script>alert("x")</script> & friends into the gizmotron console.',
    });
    await suite.finished(alice, id);
    const [hit] = await hits(alice, 'gizmotron', { mode: 'KEYWORD' });
    expect(hit!.snippet).toBe(
      'Never paste &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; friends into the <mark>gizmotron</mark> console.',
    );
    expect(hit!.chunk.text).toContain('<script>');
  });
});

describe('search: filters', () => {
  it('narrows by document ids, media types, source prefix, metadata and time', async () => {
    const query = 'server settings memory';
    const docsOf = async (filter: Record<string, unknown>) =>
      new Set((await hits(alice, query, { filter, first: 50 })).map((h) => h.chunk.document.id));
    expect(await docsOf({ documentIds: [ids.redis, ids.http] })).toEqual(new Set([ids.redis, ids.http]));
    const plain = await hits(alice, query, { filter: { mimeTypes: ['text/plain'] }, first: 50 });
    expect(plain.length).toBeGreaterThan(0);
    expect(new Set(plain.map((h) => h.chunk.document.mimeType))).toEqual(new Set(['text/plain']));
    expect(await docsOf({ sourceUriPrefix: 'https://docs.example.com/redis/' })).toEqual(
      new Set([ids.redis]),
    );
    expect(await docsOf({ metadata: { team: 'platform' } })).toEqual(new Set([ids.redis, ids.kubernetes]));
    expect(await docsOf({ to: '2000-01-01T00:00:00Z' })).toEqual(new Set());
    expect((await docsOf({ from: '2000-01-01T00:00:00Z' })).size).toBeGreaterThan(2);
  });

  it('searches only the current version of a source', async () => {
    const sourceUri = 'https://docs.example.com/versions/widget';
    const v1 = await suite.ingest(alice, {
      title: 'Widget v1',
      text: 'The frobnicator speed is 10 rpm.',
      sourceUri,
    });
    await suite.finished(alice, v1);
    expect((await hits(alice, 'frobnicator', { mode: 'KEYWORD' })).map((h) => h.chunk.document.id)).toEqual([
      v1,
    ]);
    const v2 = await suite.ingest(alice, {
      title: 'Widget v2',
      text: 'The frobnicator speed is 20 rpm.',
      sourceUri,
    });
    await suite.finished(alice, v2);
    const found = await hits(alice, 'frobnicator', { mode: 'KEYWORD' });
    expect(found.map((h) => h.chunk.document.id)).toEqual([v2]);
    expect(found[0]!.chunk.text).toContain('20 rpm');
    const near = await hits(alice, 'The frobnicator speed is 10 rpm.', { mode: 'VECTOR', first: 50 });
    expect(near[0]!.chunk.document.id).toBe(v2);
    expect(near.map((h) => h.chunk.document.id)).not.toContain(v1);
  });
});

describe('search: bounds', () => {
  const codeOf = async (query: string, extra: Record<string, unknown> = {}) => {
    const { errors } = await search(alice, query, extra);
    return errors?.[0] && { message: errors[0].message, code: errors[0].extensions?.code };
  };

  it('names what is out of bounds', async () => {
    expect(await codeOf('   ')).toEqual({
      message: 'query must be 1 to 1000 characters (got 0 after trimming)',
      code: 'BAD_USER_INPUT',
    });
    expect(await codeOf('a'.repeat(1001))).toEqual({
      message: 'query must be 1 to 1000 characters (got 1001)',
      code: 'BAD_USER_INPUT',
    });
    expect((await search(alice, 'é'.repeat(1000))).errors).toBeUndefined();
    expect(await codeOf('port', { first: 0 })).toEqual({
      message: 'first must be from 1 to 50 (got 0)',
      code: 'BAD_USER_INPUT',
    });
    expect(await codeOf('port', { first: 51 })).toEqual({
      message: 'first must be from 1 to 50 (got 51)',
      code: 'BAD_USER_INPUT',
    });
    expect((await hits(alice, 'port', { first: 2 })).length).toBe(2);
    expect(await codeOf('port', { filter: { documentIds: ['nope'] } })).toEqual({
      message: 'filter.documentIds must be a UUID (got "nope")',
      code: 'BAD_USER_INPUT',
    });
    expect(
      await codeOf('port', { filter: { documentIds: Array.from({ length: 101 }, () => ids.redis) } }),
    ).toEqual({
      message: 'filter.documentIds may name at most 100 documents (got 101)',
      code: 'BAD_USER_INPUT',
    });
    expect(
      await codeOf('port', { filter: { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' } }),
    ).toEqual({ message: 'filter.from must be before filter.to', code: 'BAD_USER_INPUT' });
    expect(await codeOf('port', { filter: { metadata: { x: 'y'.repeat(5000) } } })).toEqual({
      message: 'filter.metadata may be at most 4096 bytes of JSON (got 5008)',
      code: 'BAD_USER_INPUT',
    });
  });

  it('refuses callers without a reading role', async () => {
    const nobody = await suite.identity('acme', 'eve', []);
    const { errors } = await search(nobody, 'port');
    expect(errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});

describe('search: tenant isolation', () => {
  it('never returns another tenant’s chunk, also with both tenants searching at once', async () => {
    const acmeDocs = new Set(Object.values(ids));
    const queries = ['PostgreSQL port max_connections', 'Redis appendfsync maxmemory-policy'];
    const modes = ['HYBRID', 'KEYWORD', 'VECTOR'];
    const runs = Array.from({ length: 36 }, (_, i) => {
      const who = i % 2 === 0 ? alice : bob;
      return hits(who, queries[i % queries.length]!, { mode: modes[i % modes.length], first: 50 }).then(
        (found) => ({ who, found }),
      );
    });
    let acmeHits = 0;
    let globexHits = 0;
    for (const { who, found } of await Promise.all(runs)) {
      expect(found.length).toBeGreaterThan(0);
      for (const hit of found) {
        if (who === bob) {
          globexHits++;
          expect(bobIds).toContain(hit.chunk.document.id);
        } else {
          acmeHits++;
          expect(bobIds).not.toContain(hit.chunk.document.id);
          expect(hit.chunk.text).not.toContain('Globex');
        }
      }
    }
    expect(acmeHits).toBeGreaterThan(0);
    expect(globexHits).toBeGreaterThan(0);
    void acmeDocs;
  });

  it('row-level security, not the queries, keeps tenants apart: the SQL has no tenant condition', async () => {
    const { keywordSearch } = await import('../../src/search/keyword-search.ts');
    const { vectorSearch } = await import('../../src/search/vector-search.ts');
    const bobFinds = await withTenant(suite.orm, bob.tenantId, (em) => keywordSearch(em, 'Redis', {}, 50));
    expect(bobFinds.length).toBe(1);
    const vector = Array.from({ length: 512 }, (_, i) => (i === 0 ? 1 : 0));
    const near = await withTenant(suite.orm, bob.tenantId, (em) =>
      vectorSearch(em, vector, 'hashed-trigram-512', {}, 50, { efSearch: 40, maxScanTuples: 20_000 }),
    );
    expect(near.map((h) => h.id).length).toBe(2);
    // Outside any tenant transaction the policy's setting is missing and the query fails.
    await expect(suite.orm.em.fork().execute('select count(*) from knowledge.chunks')).rejects.toThrow(
      /app\.tenant_id|invalid input syntax for type uuid: ""/,
    );
  });

  it('a chunk is resolved by reference only in its own tenant', async () => {
    const [top] = await hits(alice, 'Redis persistence');
    const query = `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Chunk { id text document { id } } } }`;
    const own = await suite.knowledge.execute(alice, query, {
      r: [{ __typename: 'Chunk', id: top!.chunk.id }],
    });
    expect(own.data?._entities).toEqual([
      { id: top!.chunk.id, text: top!.chunk.text, document: { id: ids.redis } },
    ]);
    const other = await suite.knowledge.execute(bob, query, {
      r: [{ __typename: 'Chunk', id: top!.chunk.id }],
    });
    expect(other.data?._entities).toEqual([null]);
  });
});
