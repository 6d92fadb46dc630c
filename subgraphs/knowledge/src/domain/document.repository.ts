import { EntityRepository } from '@mikro-orm/postgresql';
import { afterKeyset, type PageRequest } from '#kernel/graphql/connection.ts';
import type { Document } from './document.entity.ts';

/** Queries over documents; row-level security already limits them to the caller's tenant. */
export class DocumentRepository extends EntityRepository<Document> {
  /** Up to `first + 1` documents after the cursor, newest first. */
  page(page: PageRequest): Promise<Document[]> {
    return this.find(afterKeyset(page.after) as object, {
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: page.first + 1,
    });
  }
}
