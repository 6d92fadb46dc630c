import type { EntityManager } from '@mikro-orm/postgresql';
import { TENANT_SETTING } from '#kernel/db/roles.ts';
import type { Logger } from '#kernel/logger.ts';
import { MAX_ERROR_LENGTH } from './document.entity.ts';

/**
 * Progress statuses (PARSING, EMBEDDING, and FAILED after the last attempt) written in their own
 * short transactions beside the event's, so that they are visible while the event's transaction is
 * still working and survive its rollback. They are sent, never awaited: on a server they commit at
 * once; on the embedded PGlite, whose one session serves an open transaction's connection first,
 * they wait for it to end. Each applies only while the document is unfinished, so a late one never
 * overwrites READY or FAILED. Updates of one document are chained in order.
 */
export class StatusSideChannel {
  readonly #em: EntityManager;
  readonly #tenantId: string;
  readonly #logger: Logger;
  #last: Promise<void> = Promise.resolve();

  constructor(em: EntityManager, tenantId: string, logger: Logger) {
    // A fork without the event's transaction context: its own connection and transaction.
    this.#em = em.fork({ clear: true });
    this.#tenantId = tenantId;
    this.#logger = logger;
  }

  /** Sends the status (with a reason for FAILED); returns at once. */
  send(documentId: string, status: 'PARSING' | 'EMBEDDING' | 'FAILED', reason?: string): void {
    this.#last = this.#last
      .then(() =>
        this.#em.transactional(async (tx) => {
          await tx.execute(`select set_config('${TENANT_SETTING}', ?, true)`, [this.#tenantId]);
          await tx.execute(
            `update knowledge.documents set status = ?, error = ?, updated_at = now()
             where id = ? and status not in ('READY', 'FAILED')`,
            [status, reason?.slice(0, MAX_ERROR_LENGTH) ?? null, documentId],
          );
        }),
      )
      .catch((error: unknown) => {
        this.#logger.warn('progress status not recorded', { documentId, status, error: String(error) });
      });
  }

  /** Resolves when every sent status is written (tests, shutdown). */
  settled(): Promise<void> {
    return this.#last;
  }
}
