import type { EntityManager } from '@mikro-orm/postgresql';
import { NotFoundError } from '#kernel/errors.ts';
import { deleteBlobs } from './blob-store.ts';
import { Document } from './document.entity.ts';

/** What a deletion removed. */
export interface Deleted {
  id: string;
  deletedVersions: number;
}

/**
 * Deletes a document with every version of its source: their chunks (cascade), the rows, and the
 * stored bytes nothing refers to any more, in the caller's transaction (the guard audits it).
 */
export async function deleteDocument(em: EntityManager, id: string): Promise<Deleted> {
  const repository = em.getRepository(Document);
  const doc = await repository.findOne({ id });
  if (!doc) throw new NotFoundError(`Document ${id} does not exist`, { id });
  const lineage = await repository.lineageOf(doc);
  const ids = lineage.map((d) => d.id);
  await em.execute(`delete from knowledge.documents where id in (${ids.map(() => '?').join(', ')})`, ids);
  await deleteBlobs(
    em,
    lineage.flatMap((d) => (d.contentSha256 ? [d.contentSha256] : [])),
  );
  for (const d of lineage) em.getUnitOfWork().unsetIdentity(d);
  return { id, deletedVersions: ids.length };
}
