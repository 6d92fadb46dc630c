import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Bytes read per statement when a blob is read back. `em.execute` inlines its parameters into the
 * SQL text, so a bytea went to the server as a hex literal (twice its size, plus the statement's
 * copy) and came back as hex text: a 20 MB document cost some 200 MB in the process. Through the
 * transaction's Kysely instance the parameters are real ones, and node-postgres sends a Buffer as a
 * binary parameter; results still arrive as text (hex), so a blob is read in slices of this size.
 */
export const BLOB_READ_SLICE = 4 * 1024 * 1024;

// The query builder of the caller's transaction (or the pool), on tables outside the entity model.
// biome-ignore lint/suspicious/noExplicitAny: knowledge.document_blobs is not an entity
const sqlOf = (em: EntityManager) => em.getKysely<any>();

/** Stores a document's original bytes under their SHA-256 (once per tenant: content-addressed). */
export async function putBlob(
  em: EntityManager,
  tenantId: string,
  sha256: string,
  content: Uint8Array,
): Promise<void> {
  await sqlOf(em)
    .insertInto('knowledge.document_blobs')
    .values({
      tenant_id: tenantId,
      sha256,
      size: content.byteLength,
      // A Buffer view of the same memory (no copy): node-postgres sends it as a binary parameter.
      content: Buffer.from(content.buffer, content.byteOffset, content.byteLength),
    })
    .onConflict((conflict) => conflict.columns(['tenant_id', 'sha256']).doNothing())
    .execute();
}

/** The original bytes stored under `sha256`, or undefined; read in slices into one Buffer. */
export async function getBlob(em: EntityManager, sha256: string): Promise<Buffer | undefined> {
  const sql = sqlOf(em);
  const found = await sql
    .selectFrom('knowledge.document_blobs')
    .select('size')
    .where('sha256', '=', sha256)
    .executeTakeFirst();
  if (!found) return undefined;
  const size = Number(found.size);
  const bytes = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += BLOB_READ_SLICE) {
    const row = await sql
      .selectFrom('knowledge.document_blobs')
      .select((eb) =>
        eb.fn<Buffer>('substring', ['content', eb.val(at + 1), eb.val(BLOB_READ_SLICE)]).as('slice'),
      )
      .where('sha256', '=', sha256)
      .executeTakeFirstOrThrow();
    (row.slice as Buffer).copy(bytes, at);
  }
  return bytes;
}

/** Removes stored bytes no document refers to any more. */
export async function deleteBlobs(em: EntityManager, sha256s: readonly string[]): Promise<void> {
  if (sha256s.length === 0) return;
  await em.execute(
    `delete from knowledge.document_blobs b where b.sha256 in (${sha256s.map(() => '?').join(', ')})
     and not exists (select 1 from knowledge.documents d where d.tenant_id = b.tenant_id and d.content_sha256 = b.sha256)`,
    [...sha256s],
  );
}
