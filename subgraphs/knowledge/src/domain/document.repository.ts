import { EntityRepository } from '@mikro-orm/postgresql';
import { keysetPage } from '#kernel/db/keyset-page.ts';
import type { PageRequest } from '#kernel/graphql/connection.ts';
import type { Document } from './document.entity.ts';

/** Queries over documents; row-level security already limits them to the caller's tenant. */
export class DocumentRepository extends EntityRepository<Document> {
  /** Up to `first + 1` documents after the cursor, newest first. */
  page(page: PageRequest): Promise<Document[]> {
    return keysetPage(this, page);
  }
}
