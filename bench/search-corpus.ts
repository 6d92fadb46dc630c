// The search benchmark's corpus: real English prose (the Markdown READMEs that ship in
// node_modules), parsed and chunked by the ingestion pipeline's own parser and chunker, embedded
// by the configured embedder, then written into several tenants with SQL (faster than the event
// pipeline; the rows are the ones ingestion writes).
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import type { TestDatabase } from '#testing/test-database.ts';
import type { Embedder } from '../subgraphs/knowledge/src/embeddings/embedder.ts';
import { chunkBlocks, type DraftChunk } from '../subgraphs/knowledge/src/ingest/chunker.ts';
import { parseDocument } from '../subgraphs/knowledge/src/ingest/parse.ts';

/** A README's chunks. */
export interface SourceFile {
  readonly path: string;
  readonly chunks: readonly DraftChunk[];
}

const LIMITS = { maxPdfPages: 1, maxDocxUncompressedBytes: 1, maxDocxEntries: 1 };

/** Reads READMEs under `root` (two levels, scoped packages too) until `wanted` chunks are found. */
export async function readCorpus(root: string, wanted: number): Promise<SourceFile[]> {
  const files: string[] = [];
  for (const entry of (await readdir(root, { withFileTypes: true })).sort((a, b) =>
    a.name < b.name ? -1 : 1,
  )) {
    if (entry.name.startsWith('.')) continue;
    const dirs = entry.name.startsWith('@')
      ? (await readdir(join(root, entry.name))).map((n) => join(root, entry.name, n))
      : [join(root, entry.name)];
    for (const dir of dirs) {
      const names = await readdir(dir).catch(() => [] as string[]);
      const readme = names.find((n) => /^readme\.md$/i.test(n));
      if (readme) files.push(join(dir, readme));
    }
  }
  const out: SourceFile[] = [];
  let total = 0;
  for (const path of files) {
    if (total >= wanted) break;
    try {
      const parsed = await parseDocument(await readFile(path), 'text/markdown', LIMITS);
      const chunks = chunkBlocks(parsed.blocks, { maxTokens: 256, overlapTokens: 32 }).filter(
        (c) => c.content.length > 80,
      );
      if (chunks.length === 0) continue;
      out.push({ path, chunks });
      total += chunks.length;
    } catch {
      // Not prose the parser accepts: skip it.
    }
  }
  return out;
}

/** How many rows each tenant holds. */
export interface TenantShare {
  readonly slug: string;
  readonly rows: number;
}

/**
 * Writes the corpus into the tenants: each tenant takes the next `rows` chunks of the corpus
 * (wrapping around, so a corpus smaller than the total is ingested several times), one document
 * per README, READY and current. The HNSW index is rebuilt once after the load (faster than
 * inserting into it row by row).
 */
export async function loadCorpus(
  db: TestDatabase,
  corpus: readonly SourceFile[],
  tenants: readonly TenantShare[],
  embedder: Embedder,
  progress: (text: string) => void,
): Promise<void> {
  const flat = corpus.flatMap((file) => file.chunks.map((chunk) => ({ file, chunk })));
  const vectors = new Map<DraftChunk, number[]>();
  const wantedDistinct = Math.min(
    flat.length,
    tenants.reduce((sum, t) => sum + t.rows, 0),
  );
  for (let i = 0; i < wantedDistinct; i += 256) {
    const batch = flat.slice(i, i + 256);
    const embedded = await embedder.embed(batch.map(({ chunk }) => `${chunk.headingPath}\n${chunk.content}`));
    for (const [j, { chunk }] of batch.entries()) vectors.set(chunk, embedded[j]!);
    progress(
      `\r  embedding ${Math.min(i + 256, wantedDistinct)}/${wantedDistinct} chunks (${embedder.model})   `,
    );
  }
  progress('\n');
  if (!db.migrationUrl)
    throw new Error('the benchmark needs a database server (a superuser URL), not PGlite');
  // One superuser connection for the load (db.asSuperuser connects per statement).
  const su = new pg.Client({ connectionString: db.migrationUrl });
  await su.connect();
  try {
    await write(su, flat, wantedDistinct, vectors, tenants, embedder.model, progress);
  } finally {
    await su.end();
  }
}

async function write(
  su: pg.Client,
  flat: readonly { file: SourceFile; chunk: DraftChunk }[],
  wantedDistinct: number,
  vectors: Map<DraftChunk, number[]>,
  tenants: readonly TenantShare[],
  model: string,
  progress: (text: string) => void,
): Promise<void> {
  const db = { asSuperuser: (sql: string, params?: unknown[]) => su.query(sql, params) };
  await db.asSuperuser('drop index knowledge.chunks_embedding_hnsw_idx');
  let cursor = 0;
  let written = 0;
  const total = tenants.reduce((sum, t) => sum + t.rows, 0);
  for (const tenant of tenants) {
    const tenantId = devTenantId(tenant.slug);
    await db.asSuperuser(
      'insert into platform.tenants (id, slug, display_name) values ($1, $2, $2) on conflict do nothing',
      [tenantId, tenant.slug],
    );
    let documents = new Map<SourceFile, string>();
    let pass = 0;
    const rows: unknown[][] = [];
    for (let i = 0; i < tenant.rows; i++) {
      const position = (cursor + i) % wantedDistinct;
      // Each pass over the corpus within a tenant is another ingestion of it: new documents.
      if (i > 0 && position === 0) {
        documents = new Map();
        pass++;
      }
      const { file, chunk } = flat[position]!;
      let documentId = documents.get(file);
      if (!documentId) {
        documentId = randomUUID();
        documents.set(file, documentId);
        await db.asSuperuser(
          `insert into knowledge.documents (id, tenant_id, title, mime_type, status, created_by, created_at, source_uri,
             version, is_current, language, metadata, chunk_count, ingested_at, updated_at)
           values ($1, $2, $3, 'text/markdown', 'READY', $4, now(), $5, 1, true, 'en', $6, 0, now(), now())`,
          [
            documentId,
            tenantId,
            file.path.split('/').slice(-2, -1)[0],
            devUserId(tenant.slug, 'bench'),
            `file://${file.path}${pass ? `#copy-${pass}` : ''}`,
            JSON.stringify({ package: file.path.split('/').slice(-2, -1)[0] }),
          ],
        );
      }
      rows.push([
        randomUUID(),
        tenantId,
        documentId,
        chunk.ordinal,
        chunk.content,
        chunk.headingPath,
        vectors.get(chunk)!,
      ]);
      if (rows.length === 500 || i === tenant.rows - 1) {
        await insertChunks(db, rows.splice(0), model);
      }
      written++;
      if (written % 2000 === 0) progress(`\r  writing ${written}/${total} chunks   `);
    }
    cursor += tenant.rows;
  }
  progress(`\r  writing ${total}/${total} chunks; building the HNSW index…\n`);
  await db.asSuperuser(`set maintenance_work_mem = '512MB'`);
  await db.asSuperuser(
    'create index chunks_embedding_hnsw_idx on knowledge.chunks using hnsw (embedding vector_cosine_ops)',
  );
  await db.asSuperuser('analyze knowledge.chunks');
  await db.asSuperuser('analyze knowledge.documents');
}

async function insertChunks(
  db: { asSuperuser: (sql: string, params?: unknown[]) => Promise<unknown> },
  rows: unknown[][],
  model: string,
): Promise<void> {
  // Each chunk's ordinal is unique per document; a corpus ingested again into one tenant gets new documents.
  const values = rows.map(
    (_, r) =>
      `($${r * 7 + 1}, $${r * 7 + 2}, $${r * 7 + 3}, $${r * 7 + 4}, $${r * 7 + 5}, $${r * 7 + 6}, 0, $${r * 7 + 7}::vector, '${model}', now())`,
  );
  await db.asSuperuser(
    `insert into knowledge.chunks (id, tenant_id, document_id, ordinal, content, heading_path, token_count, embedding, embedding_model, created_at)
     values ${values.join(', ')} on conflict (document_id, ordinal) do nothing`,
    rows.flatMap(([id, tenant, doc, ordinal, content, heading, vector]) => [
      id,
      tenant,
      doc,
      ordinal,
      content,
      heading,
      `[${(vector as number[]).join(',')}]`,
    ]),
  );
}
