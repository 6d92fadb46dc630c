import type { EntityManager } from '@mikro-orm/postgresql';

/** Stores a document's original bytes under their SHA-256 (once per tenant: content-addressed). */
export async function putBlob(
  em: EntityManager,
  tenantId: string,
  sha256: string,
  content: Uint8Array,
): Promise<void> {
  await em.execute(
    `insert into knowledge.document_blobs (tenant_id, sha256, size, content) values (?, ?, ?, ?)
     on conflict (tenant_id, sha256) do nothing`,
    [
      tenantId,
      sha256,
      content.byteLength,
      Buffer.from(content.buffer, content.byteOffset, content.byteLength),
    ],
  );
}

/** The original bytes stored under `sha256`, or undefined. */
export async function getBlob(em: EntityManager, sha256: string): Promise<Buffer | undefined> {
  const rows = await em.execute<{ content: Buffer }[]>(
    'select content from knowledge.document_blobs where sha256 = ?',
    [sha256],
  );
  return rows[0]?.content;
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
