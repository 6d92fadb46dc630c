import { type EntityManager, LockMode } from '@mikro-orm/postgresql';
import type { EventDefinition, EventEnvelope } from '#events/catalogue.ts';
import type { FollowUpInput } from '#events/consumer/consumer.ts';
import { TENANT_SETTING } from '#kernel/db/roles.ts';
import type { Logger } from '#kernel/logger.ts';
import { DocumentFailed, DocumentStatusChanged } from '../events.ts';
import { Document, type DocumentStatus } from './document.entity.ts';

/** The `document.status_changed` a document announces when it moved from `from` to its status. */
export function statusChange(
  doc: Document,
  from: DocumentStatus | null,
): FollowUpInput<typeof DocumentStatusChanged> {
  return {
    aggregate: { type: 'Document', id: doc.id },
    payload: {
      documentId: doc.id,
      from,
      to: doc.status,
      ...(doc.status === 'FAILED' && doc.error ? { error: doc.error } : {}),
    },
  };
}

/** Publishes a follow-up event in the given transaction (the consumer context's `publishIn`). */
type PublishIn = <D extends EventDefinition>(
  em: EntityManager,
  definition: D,
  input: FollowUpInput<D>,
) => Promise<EventEnvelope<D>>;

/** What a {@link StatusSideChannel} needs from the event it works for. */
export interface StatusSideChannelOptions {
  /** The event's transaction. */
  em: EntityManager;
  tenantId: string;
  /**
   * Whether the database serves one session (the embedded PGlite): then no other transaction can
   * commit while the event's is open, and progress is written in the event's own transaction.
   */
  singleSession: boolean;
  publishIn: PublishIn;
  logger: Logger;
}

/**
 * Progress statuses (PARSING, EMBEDDING, and FAILED after the last attempt), each with its
 * `document.status_changed` in the same transaction. On a server each is its own short
 * transaction beside the event's (locking the document row, applying only while the document is
 * unfinished), awaited: visible at once, surviving the event transaction's rollback, and in a
 * fixed order with the READY or FAILED the event's transaction writes after them. On a
 * single-session database such a transaction would wait for the event's to end (awaited, it would
 * deadlock), so PARSING and EMBEDDING are written in the event's transaction instead (no one could
 * see them earlier anyway) and the last attempt's FAILED is sent to run after its rollback.
 */
export class StatusSideChannel {
  readonly #o: StatusSideChannelOptions;
  #sent: Promise<void> = Promise.resolve();

  constructor(options: StatusSideChannelOptions) {
    this.#o = options;
  }

  /** Moves `doc` (loaded in the event's transaction) to PARSING or EMBEDDING. */
  async progress(doc: Document, status: 'PARSING' | 'EMBEDDING'): Promise<void> {
    if (!this.#o.singleSession) return this.#beside(doc.id, status);
    const from = doc.moveTo(status);
    await this.#o.em.flush();
    await this.#o.publishIn(this.#o.em, DocumentStatusChanged, statusChange(doc, from));
  }

  /** FAILED with `reason`, surviving the rollback of the event's transaction. */
  async fail(documentId: string, reason: string): Promise<void> {
    if (!this.#o.singleSession) return this.#beside(documentId, 'FAILED', reason);
    this.#sent = this.#beside(documentId, 'FAILED', reason).catch((error: unknown) => {
      this.#o.logger.warn('FAILED status not recorded', { documentId, error: String(error) });
    });
  }

  /** Resolves when a FAILED sent on a single-session database is written (tests, shutdown). */
  settled(): Promise<void> {
    return this.#sent;
  }

  // A fork without the event's transaction context: its own connection and transaction.
  #beside(documentId: string, status: 'PARSING' | 'EMBEDDING' | 'FAILED', reason?: string): Promise<void> {
    return this.#o.em.fork({ clear: true }).transactional(async (tx) => {
      await tx.execute(`select set_config('${TENANT_SETTING}', ?, true)`, [this.#o.tenantId]);
      const doc = await tx.findOne(Document, { id: documentId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!doc || doc.finished) return;
      const from = status === 'FAILED' ? doc.markFailed(reason ?? 'ingestion failed') : doc.moveTo(status);
      await tx.flush();
      if (doc.status === 'FAILED') {
        await this.#o.publishIn(tx, DocumentFailed, {
          aggregate: { type: 'Document', id: doc.id },
          payload: { documentId: doc.id, reason: doc.error! },
        });
      }
      await this.#o.publishIn(tx, DocumentStatusChanged, statusChange(doc, from));
    });
  }
}
