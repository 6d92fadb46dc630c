import type { EntityManager } from '@mikro-orm/postgresql';
import type { TenantScope } from '../../db/tenant-context.ts';
import type { RequestContext } from '../context.ts';

type TransactionOutcome =
  | { ok: true; finish: (em: EntityManager) => Promise<unknown> }
  | { ok: false; error: unknown };

/**
 * The one transaction of a mutation, begun only when the resolver first reaches the database (so no
 * transaction is held while it talks to other systems first) and kept open until the guard commits it
 * with the audit record. Every `run` of the resolver joins it.
 */
export class LazyTransaction {
  readonly scope: TenantScope;
  #em: Promise<EntityManager> | undefined;
  #end: ((outcome: TransactionOutcome) => void) | undefined;
  #finished: Promise<unknown> | undefined;

  constructor(ctx: RequestContext) {
    this.scope = {
      tenantId: ctx.db.tenantId,
      run: async (work) => work(await this.#begin(ctx)),
    };
  }

  /** Whether the resolver reached the database. */
  get started(): boolean {
    return this.#em !== undefined;
  }

  #begin(ctx: RequestContext): Promise<EntityManager> {
    this.#em ??= new Promise<EntityManager>((resolveEm, rejectEm) => {
      this.#finished = ctx.db.run(async (em) => {
        const outcome = await new Promise<TransactionOutcome>((end) => {
          this.#end = end;
          resolveEm(em);
        });
        if (!outcome.ok) throw outcome.error;
        await outcome.finish(em);
      });
      this.#finished.catch(rejectEm);
    });
    return this.#em;
  }

  /** Runs `finish` in the transaction and commits it. */
  async commit(finish: (em: EntityManager) => Promise<unknown>): Promise<void> {
    this.#end?.({ ok: true, finish });
    await this.#finished;
  }

  /** Rolls the transaction back, if one was begun. */
  async rollback(error: unknown): Promise<void> {
    if (!this.#em) return;
    this.#end?.({ ok: false, error });
    await this.#finished?.catch(() => {});
  }
}
