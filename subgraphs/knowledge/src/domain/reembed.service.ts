import type { EntityManager } from '@mikro-orm/postgresql';
import type { Embedder } from '../embeddings/embedder.ts';
import { embeddingText } from '../ingest/chunker.ts';

/** Chunks embedded per batch by default (one embedder call and one insert each). */
export const DEFAULT_REEMBED_BATCH = 64;
/** The smallest UUID: where a tenant's keyset scan starts. */
const FIRST_ID = '00000000-0000-0000-0000-000000000000';

/** A tenant with chunks not yet on the target model. */
export interface PendingTenant {
  tenantId: string;
  pending: number;
}

/** Tenants with chunks whose model is not `model`, across tenants (counts only; ADR 0017). */
export async function pendingTenants(em: EntityManager, model: string): Promise<PendingTenant[]> {
  const rows = await em.execute<{ tenant_id: string; pending: string }[]>(
    'select tenant_id, pending from knowledge.reembed_pending(?)',
    [model],
  );
  return rows.map((r) => ({ tenantId: r.tenant_id, pending: Number(r.pending) }));
}

/**
 * The tenant's chunks still to stage for `model` (in the caller's tenant transaction): not on the
 * model and without a staged vector of it. Staged vectors of any other model (an earlier run
 * into another model) are removed first.
 */
export async function remainingToStage(em: EntityManager, model: string): Promise<number> {
  await em.execute('delete from knowledge.chunk_embeddings_next where model <> ?', [model]);
  const [row] = await em.execute<{ n: string }[]>(
    `select count(*) as n from knowledge.chunks c
      where c.embedding_model <> ?
        and not exists (select 1 from knowledge.chunk_embeddings_next n where n.chunk_id = c.id)`,
    [model],
  );
  return Number(row!.n);
}

/**
 * Embeds up to `batch` of the tenant's chunks after `afterId` (keyset order) that are not on the
 * embedder's model into the staging table, in the caller's tenant transaction. Search does not see
 * them: it reads `knowledge.chunks.embedding`. Returns how many were staged and the last id.
 */
export async function stageBatch(
  em: EntityManager,
  tenantId: string,
  embedder: Embedder,
  afterId = FIRST_ID,
  batch = DEFAULT_REEMBED_BATCH,
): Promise<{ staged: number; lastId: string }> {
  const rows = await em.execute<{ id: string; content: string; heading_path: string }[]>(
    `select c.id, c.content, c.heading_path from knowledge.chunks c
      where c.id > ? and c.embedding_model <> ?
        and not exists (select 1 from knowledge.chunk_embeddings_next n where n.chunk_id = c.id)
      order by c.id limit ?`,
    [afterId, embedder.model, batch],
  );
  if (rows.length === 0) return { staged: 0, lastId: afterId };
  const vectors = await embedder.embed(
    rows.map((r) => embeddingText({ headingPath: r.heading_path, content: r.content })),
  );
  await em.execute(
    `insert into knowledge.chunk_embeddings_next (chunk_id, tenant_id, model, embedding)
     values ${rows.map(() => '(?, ?, ?, ?::vector)').join(', ')}
     on conflict (chunk_id) do nothing`,
    rows.flatMap((r, i) => [r.id, tenantId, embedder.model, `[${vectors[i]!.join(',')}]`]),
  );
  return { staged: rows.length, lastId: rows[rows.length - 1]!.id };
}

/** What switching a tenant did. */
export interface SwitchResult {
  /** Chunks that took their staged vector. */
  switched: number;
  /** Chunks written since they were staged (by workers on the old model), embedded during the switch. */
  stragglers: number;
}

/**
 * Switches the tenant to the embedder's model in the caller's tenant transaction: every chunk takes
 * its staged vector, chunks written meanwhile are embedded now, the staging rows go. Until this
 * commits, search reads the old vectors; after, only new ones (MVCC: one commit). Chunk writes of
 * every tenant wait for the commit (SHARE ROW EXCLUSIVE), so no chunk of the old model can slip in
 * between the check and the commit; reads are not blocked.
 */
export async function switchTenant(em: EntityManager, embedder: Embedder): Promise<SwitchResult> {
  await em.execute('lock table knowledge.chunks in share row exclusive mode');
  const [moved] = await em.execute<{ n: string }[]>(
    `with moved as (
       update knowledge.chunks c set embedding = n.embedding, embedding_model = n.model
         from knowledge.chunk_embeddings_next n
        where n.chunk_id = c.id and n.model = ? and c.embedding_model <> n.model
       returning 1)
     select count(*) as n from moved`,
    [embedder.model],
  );
  let stragglers = 0;
  for (;;) {
    const rows = await em.execute<{ id: string; content: string; heading_path: string }[]>(
      `select id, content, heading_path from knowledge.chunks
        where embedding_model <> ? order by id limit ?`,
      [embedder.model, DEFAULT_REEMBED_BATCH],
    );
    if (rows.length === 0) break;
    const vectors = await embedder.embed(
      rows.map((r) => embeddingText({ headingPath: r.heading_path, content: r.content })),
    );
    await em.execute(
      `update knowledge.chunks c set embedding = v.embedding::vector, embedding_model = ?
         from (values ${rows.map(() => '(?::uuid, ?)').join(', ')}) as v (id, embedding)
        where c.id = v.id`,
      [embedder.model, ...rows.flatMap((r, i) => [r.id, `[${vectors[i]!.join(',')}]`])],
    );
    stragglers += rows.length;
  }
  await em.execute('delete from knowledge.chunk_embeddings_next');
  return { switched: Number(moved!.n), stragglers };
}
