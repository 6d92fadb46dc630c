// Search and ask under load: ≥ 50,000 chunks of real prose in several tenants (the corpus written
// several times, with SQL: see search-corpus.ts), `search` and `ask` p50/p95/p99 at 1 and 16
// concurrent clients straight at the knowledge subgraph and through the gateway, the share of time
// per stage (from ask's timings, which are its spans), and recall@10 of the tenant-filtered HNSW
// search against an exact scan for a tenant holding 10% of the rows, with and without pgvector's
// iterative scans. Needs the native PostgreSQL with pgvector (a throwaway database).
// Run: npm run bench:search [-- --chunks 50000 --requests 300 --embedder hashed|use]
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { loadCorpus, readCorpus } from './search-corpus.ts';

const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);

const { values } = parseArgs({
  options: {
    chunks: { type: 'string', default: '50000' },
    requests: { type: 'string', default: '300' },
    embedder: { type: 'string', default: 'hashed' },
    recall: { type: 'string', default: '200' },
  },
});
const positive = (name: string, raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive whole number (got ${raw})`);
  return n;
};
const CHUNKS = positive('chunks', values.chunks);
const REQUESTS = positive('requests', values.requests);
const RECALL_QUERIES = positive('recall', values.recall);
if (values.embedder !== 'hashed' && values.embedder !== 'use') {
  throw new Error(`--embedder must be hashed or use (got ${values.embedder})`);
}
// The platform's knowledge subgraph reads its embedder from the environment when it is imported.
process.env.EMBEDDINGS_PROVIDER = values.embedder;
process.env.APOLLO_TELEMETRY_DISABLED = '1';

const { startTestPlatform } = await import('../gateway/test/support/platform.ts');
const { createEmbedder } = await import('../subgraphs/knowledge/src/embeddings/create-embedder.ts');
const { loadKnowledgeConfig } = await import('../subgraphs/knowledge/src/config.ts');
const { vectorSearch } = await import('../subgraphs/knowledge/src/search/vector-search.ts');
const { createOrm } = await import('#kernel/db/orm.ts');

const config = loadKnowledgeConfig();
const embedder = createEmbedder(config.embeddings);
const SMALL = 'bench-small';
const smallRows = Math.round(CHUNKS * 0.1);
const bigTenants = 3;
const tenants = [
  { slug: SMALL, rows: smallRows },
  ...Array.from({ length: bigTenants }, (_, i) => ({
    slug: `bench-big-${i + 1}`,
    rows: Math.floor((CHUNKS - smallRows) / bigTenants) + (i === 0 ? (CHUNKS - smallRows) % bigTenants : 0),
  })),
];

progress(`reading the corpus (READMEs in node_modules)…\n`);
const corpus = await readCorpus(
  join(import.meta.dirname, '..', 'node_modules'),
  Math.max(...tenants.map((t) => t.rows)),
);
const distinct = corpus.reduce((sum, f) => sum + f.chunks.length, 0);
progress(`  ${corpus.length} files, ${distinct} distinct chunks\n`);

progress('starting the platform on the native PostgreSQL…\n');
const platform = await startTestPlatform({ kind: 'postgres', poolMax: 16 });
try {
  await loadCorpus(platform.db, corpus, tenants, embedder, progress);
  const rows = (
    await platform.db.asSuperuser<{ n: string }>('select count(*) as n from knowledge.chunks')
  )[0]!.n;
  const small = (
    await platform.db.asSuperuser<{ n: string }>(
      'select count(*) as n from knowledge.chunks where tenant_id = $1',
      [devTenantId(SMALL)],
    )
  )[0]!.n;
  out(
    `Corpus: ${rows} chunks (${distinct} distinct, from ${corpus.length} READMEs, written into ${tenants.length} tenants with SQL); ` +
      `tenant ${SMALL} holds ${small} (${((Number(small) / Number(rows)) * 100).toFixed(1)}%). Embedder ${embedder.model}.`,
  );

  // Queries: four to seven consecutive words of a sentence from the small tenant's chunks.
  const smallChunks = corpus.flatMap((f) => f.chunks).slice(0, smallRows);
  const queries = Array.from({ length: 200 }, (_, i) => {
    const words = smallChunks[(i * 7919) % smallChunks.length]!.content.match(/[A-Za-z]{3,}/g) ?? ['server'];
    const start = (i * 31) % Math.max(1, words.length - 7);
    return words.slice(start, start + 4 + (i % 4)).join(' ');
  });

  await recall(platform.db.appUrl, queries);
  const token = await platform.issuer.token(SMALL, 'bench', ['Reader']);
  const knowledgeUrl = platform.subgraphs.knowledge.url;
  const targets = { direct: knowledgeUrl, gateway: platform.gateway.url };
  const SEARCH =
    'query ($q: String!) { search(query: $q, first: 10) { score keywordRank vectorRank snippet chunk { id document { id title } } } }';
  const ASK =
    'query ($q: String!) { ask(question: $q) { text unanswered citations { n quote } timings { stage ms } } }';
  const stages = new Map<string, number>();
  const table: string[][] = [];
  for (const [operation, query] of [
    ['search', SEARCH],
    ['ask', ASK],
  ] as const) {
    for (const [via, url] of Object.entries(targets)) {
      for (const clients of [1, 16]) {
        const record = operation === 'ask' && via === 'direct' && clients === 1;
        const latencies = await load(`${operation} ${via} ×${clients}`, clients, async (i) => {
          const body = await post(url, token, query, { q: queries[i % queries.length] });
          if (record) {
            for (const t of (body.ask as { timings: { stage: string; ms: number }[] }).timings) {
              stages.set(t.stage, (stages.get(t.stage) ?? 0) + t.ms);
            }
          }
        });
        const target = clients === 1 ? (operation === 'search' ? 30 : 150) : undefined;
        table.push([
          operation,
          via,
          String(clients),
          ...[0.5, 0.95, 0.99].map((q) => pct(latencies, q).toFixed(1)),
          rate(latencies, clients),
          target ? `${target} ms (${(pct(latencies, 0.95) / target).toFixed(2)}×)` : '',
        ]);
      }
    }
  }
  out();
  out('Latency (ms) — one process serves the subgraphs, the gateway and the clients on this 2-core machine');
  printTable(['operation', 'via', 'clients', 'p50', 'p95', 'p99', 'req/s', 'p95 target (ratio)'], table);
  const total = stages.get('total') ?? 1;
  out();
  out('Share of ask time per stage (direct, 1 client; from the answers’ timings, i.e. their spans)');
  printTable(
    ['stage', 'mean ms', 'share'],
    [...stages.entries()]
      .filter(([stage]) => stage !== 'total')
      .map(([stage, ms]) => [stage, (ms / REQUESTS).toFixed(2), `${((ms / total) * 100).toFixed(1)}%`])
      .concat([['total', (total / REQUESTS).toFixed(2), '100%']]),
  );
  if (values.embedder === 'hashed') {
    const use = createEmbedder({ ...config.embeddings, provider: 'use', dimensions: 512 });
    await use.embed(['warm up']);
    const times: number[] = [];
    for (const q of queries.slice(0, 30)) {
      const t = performance.now();
      await use.embed([q]);
      times.push(performance.now() - t);
    }
    out();
    out(
      `For comparison, one query embedded by the default USE model (use-lite-512) on this machine: p50 ${pct(times, 0.5).toFixed(1)} ms, p95 ${pct(times, 0.95).toFixed(1)} ms`,
    );
  }
} finally {
  await platform.close();
}

/** recall@10 of the tenant's HNSW search (iterative scans on and off) against its exact scan. */
async function recall(appUrl: string, queries: readonly string[]): Promise<void> {
  const orm = await createOrm({ url: appUrl, entities: [], poolMax: 2 });
  try {
    const vectors = await embedder.embed(queries.slice(0, RECALL_QUERIES));
    const tenantId = devTenantId(SMALL);
    const hnsw = { efSearch: config.search.efSearch, maxScanTuples: config.search.maxScanTuples };
    const results: Record<string, { recall: number; ms: number[]; found: number }> = {};
    for (const name of ['exact', 'iterative', 'no iterative scan'])
      results[name] = { recall: 0, ms: [], found: 0 };
    for (const [i, vector] of vectors.entries()) {
      const run = (options: Parameters<typeof vectorSearch>[5]) =>
        withTenant(orm, tenantId, async (em) => {
          const t = performance.now();
          const hits = await vectorSearch(em, vector, embedder.model, {}, 10, options);
          return { ids: hits.map((h) => h.id), ms: performance.now() - t };
        });
      const exact = await run({ ...hnsw, exact: true });
      results.exact!.ms.push(exact.ms);
      results.exact!.found += exact.ids.length;
      for (const [name, options] of [
        ['iterative', hnsw],
        ['no iterative scan', { ...hnsw, iterative: false }],
      ] as const) {
        const got = await run(options);
        const truth = new Set(exact.ids);
        results[name]!.recall += got.ids.filter((id) => truth.has(id)).length / Math.max(1, truth.size);
        results[name]!.ms.push(got.ms);
        results[name]!.found += got.ids.length;
      }
      if (i % 20 === 0) progress(`\r  recall: ${i}/${vectors.length}   `);
    }
    progress(`\r  recall: ${vectors.length}/${vectors.length} done\n`);
    const plan = await withTenant(orm, tenantId, async (em) => {
      await em.execute(`select set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
      const rows = await em.execute<{ 'QUERY PLAN': string }[]>(
        `explain select c.id from knowledge.chunks c join knowledge.documents d on d.id = c.document_id
          where c.embedding_model = ? and d.status = 'READY' and d.is_current
          order by c.embedding <=> ?::vector limit 10`,
        [embedder.model, `[${vectors[0]!.join(',')}]`],
      );
      return rows.map((r) => r['QUERY PLAN']).join(' ');
    });
    out();
    out(
      `Filtered vector search, tenant ${SMALL} (10% of rows), ${vectors.length} queries, ef_search ${hnsw.efSearch}; plan uses the HNSW index: ${/chunks_embedding_hnsw_idx/.test(plan) ? 'yes' : 'NO'}`,
    );
    printTable(
      ['method', 'recall@10', 'hits/query', 'p50 ms', 'p95 ms'],
      Object.entries(results).map(([name, r]) => [
        name,
        name === 'exact' ? '1 (truth)' : (r.recall / vectors.length).toFixed(3),
        (r.found / vectors.length).toFixed(1),
        pct(r.ms, 0.5).toFixed(2),
        pct(r.ms, 0.95).toFixed(2),
      ]),
    );
  } finally {
    await orm.close();
  }
}

/** Runs REQUESTS operations over `clients` loops (after a short warm-up); returns each one's latency. */
async function load(label: string, clients: number, op: (i: number) => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await op(i);
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
        if (latencies.length % 50 === 0) progress(`\r  ${label}: ${latencies.length}/${REQUESTS}   `);
      }
    }),
  );
  (latencies as number[] & { wallMs?: number }).wallMs = performance.now() - started;
  progress(`\r  ${label}: ${REQUESTS}/${REQUESTS} done   \n`);
  return latencies;
}

async function post(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors || !body.data)
    throw new Error(`request failed: ${JSON.stringify(body.errors).slice(0, 300)}`);
  return body.data;
}

function pct(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
}

function rate(latencies: number[], _clients: number): string {
  const wall = (latencies as number[] & { wallMs?: number }).wallMs ?? 1;
  return ((latencies.length / wall) * 1000).toFixed(0);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  out(line(header));
  out(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) out(line(row));
}
