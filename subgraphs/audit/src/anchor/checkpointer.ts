import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { ConflictError } from '#kernel/errors.ts';
import type { Logger } from '#kernel/logger.ts';
import { chainHead, hashesAt, scanSpan } from '../domain/audit-chain.ts';
import type { ChainAnchor } from './chain-anchor.ts';
import type { Checkpoint } from './checkpoint.ts';

/** What one checkpoint attempt did. */
export interface CheckpointResult {
  checkpoint: Checkpoint;
  /** False when the head had not moved since the newest checkpoint (which is returned). */
  created: boolean;
}

/**
 * Checkpoints the chain head of the transaction's tenant. The rows since the newest checkpoint are
 * checked first (each hash recomputed, each link followed back to the checkpointed hash): a chain
 * that no longer matches is never signed, so a rewrite cannot be laundered into a new checkpoint.
 * Returns null when the tenant has no audit rows yet.
 */
export async function checkpointTenant(
  em: EntityManager,
  tenantId: string,
  anchor: ChainAnchor,
): Promise<CheckpointResult | null> {
  // One checkpointer per tenant at a time (several audit replicas may share the store).
  await em.execute(`select pg_advisory_xact_lock(hashtextextended('audit.checkpoint:' || ?, 0))`, [tenantId]);
  const head = await chainHead(em);
  if (!head) return null;
  // Read under the lock: another audit replica may have checkpointed this head meanwhile.
  const last = await anchor.current(tenantId);
  if (last && last.seq === head.seq && last.hash === head.hash) return { checkpoint: last, created: false };
  if (last) {
    const [hash] = (await hashesAt(em, [last.seq])).values();
    if (hash !== last.hash) {
      throw new ConflictError(
        `The audit chain no longer matches its checkpoint at sequence ${last.seq}; ` +
          'it is not checkpointed again: run verifyAuditChain to see what changed',
        { sequence: last.seq },
      );
    }
  }
  const scan = await scanSpan(em, { fromSeq: last?.seq ?? 1, toSeq: head.seq, range: null });
  if (scan.finding) {
    throw new ConflictError(
      `The audit chain is broken at sequence ${scan.finding.sequence} (${scan.finding.message}); ` +
        'it is not checkpointed: run verifyAuditChain',
      { sequence: scan.finding.sequence },
    );
  }
  return { checkpoint: await anchor.record({ tenantId, ...head }), created: true };
}

/** Checkpoints every tenant whose head moved; a tenant that fails is logged and does not stop the others. */
export async function checkpointAll(orm: MikroORM, anchor: ChainAnchor, logger: Logger): Promise<number> {
  const heads = await orm.em
    .fork()
    .execute<{ tenant_id: string; seq: string }[]>('select tenant_id, seq from audit.chain_heads()');
  let created = 0;
  for (const head of heads) {
    const last = await anchor.latest(head.tenant_id).catch(() => null);
    if (last && last.seq === Number(head.seq)) continue;
    try {
      const result = await withTenant(orm, head.tenant_id, (em) =>
        checkpointTenant(em, head.tenant_id, anchor),
      );
      if (result?.created) created += 1;
    } catch (error) {
      logger.error(`audit checkpoint of tenant ${head.tenant_id} failed`, {
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return created;
}

/** A running checkpoint timer. */
export interface CheckpointTimer {
  stop(): Promise<void>;
}

/** Runs {@link checkpointAll} every `intervalMs` (one round at a time) until stopped. */
export function startCheckpointTimer(
  orm: MikroORM,
  anchor: ChainAnchor,
  intervalMs: number,
  logger: Logger,
): CheckpointTimer {
  let round: Promise<void> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    round = checkpointAll(orm, anchor, logger).then(
      (created) => {
        if (created > 0) logger.debug(`checkpointed ${created} audit chain(s)`);
      },
      (error: unknown) => logger.error('audit checkpoint round failed', { message: String(error) }),
    );
    void round.then(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  let timer = setTimeout(tick, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round;
    },
  };
}
