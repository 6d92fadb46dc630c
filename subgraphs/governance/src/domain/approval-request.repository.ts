import { EntityRepository } from '@mikro-orm/postgresql';
import { keysetPage } from '#kernel/db/keyset-page.ts';
import type { PageRequest } from '#kernel/graphql/connection.ts';
import type { APPROVAL_STATUSES, ApprovalRequest } from './approval-request.entity.ts';

/** Queries over approval requests; row-level security limits them to the caller's tenant. */
export class ApprovalRequestRepository extends EntityRepository<ApprovalRequest> {
  /** The approval requests of each task, oldest first, in one query. */
  async byTasks(taskIds: readonly string[]): Promise<Map<string, ApprovalRequest[]>> {
    const rows = await this.find(
      { taskId: { $in: [...taskIds] } },
      { orderBy: { requestedAt: 'asc', id: 'asc' } },
    );
    const byTask = new Map<string, ApprovalRequest[]>();
    for (const row of rows) byTask.set(row.taskId, [...(byTask.get(row.taskId) ?? []), row]);
    return byTask;
  }

  /** Up to `first + 1` requests after the cursor, newest first, optionally of one status. */
  page(page: PageRequest, status?: (typeof APPROVAL_STATUSES)[number] | null): Promise<ApprovalRequest[]> {
    return keysetPage(this, page, { at: 'requestedAt', where: status ? { status } : {} });
  }
}
