import { EntityRepository } from '@mikro-orm/postgresql';
import { keysetPage } from '#kernel/db/keyset-page.ts';
import type { PageRequest } from '#kernel/graphql/connection.ts';
import type { Task } from './task.entity.ts';

/** Queries over tasks; row-level security already limits them to the caller's tenant. */
export class TaskRepository extends EntityRepository<Task> {
  /** Up to `first + 1` tasks after the cursor, newest first. */
  page(page: PageRequest): Promise<Task[]> {
    return keysetPage(this, page);
  }
}
