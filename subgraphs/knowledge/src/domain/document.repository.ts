import { EntityRepository } from '@mikro-orm/postgresql';
import { keysetPage } from '#kernel/db/keyset-page.ts';
import type { PageRequest } from '#kernel/graphql/connection.ts';
import type { Document } from './document.entity.ts';

/** Queries over documents; row-level security already limits them to the caller's tenant. */
export class DocumentRepository extends EntityRepository<Document> {
  /** Up to `first + 1` current documents after the cursor, newest first (older versions are listed by `versions`). */
  page(page: PageRequest): Promise<Document[]> {
    return keysetPage(this, page, { where: { isCurrent: true } });
  }

  /** The tenant's document with this content, if any. */
  byContent(sha256: string): Promise<Document | null> {
    return this.findOne({ contentSha256: sha256 });
  }

  /** Every version of a source, newest first. */
  versionsOf(sourceUri: string): Promise<Document[]> {
    return this.find({ sourceUri }, { orderBy: { version: 'desc' } });
  }

  /** The versions of a document's lineage (itself alone when it has no source URI), newest first. */
  async lineageOf(doc: Document): Promise<Document[]> {
    return doc.sourceUri ? this.versionsOf(doc.sourceUri) : [doc];
  }
}
