import type { EntityManager } from '@mikro-orm/postgresql';
import { eventSource, publish } from '#events/producer/outbox.ts';
import { ForbiddenError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { KillSwitchChanged } from '../events.ts';
import { checkedKillReason } from './kill-switch.entity.ts';

/** The platform-wide kill switch as every tenant sees it. */
export interface PlatformKillSwitchState {
  engaged: boolean;
  engagedBy: string | null;
  engagedAt: Date | null;
  reason: string | null;
}

interface Row {
  engaged: boolean;
  engaged_by: string | null;
  engaged_at: Date | string | null;
  reason: string | null;
}

/** Reads the platform-wide switch (one row every tenant may read; migration 20261204190000). */
export async function readPlatformKillSwitch(em: EntityManager): Promise<PlatformKillSwitchState> {
  const [row] = (await em.execute(
    'select engaged, engaged_by, engaged_at, reason from governance.platform_kill_switch where id',
  )) as Row[];
  return {
    engaged: row?.engaged === true,
    engagedBy: row?.engaged_by ?? null,
    engagedAt: row?.engaged_at ? new Date(row.engaged_at) : null,
    reason: row?.reason ?? null,
  };
}

/**
 * Engages (with a reason) or releases the platform-wide switch for an Admin of an operator tenant
 * (OPERATOR_TENANT_IDS); anyone else is refused. A change is announced as `killswitch.changed` of
 * scope PLATFORM in the operator's tenant, in the same transaction; engaging twice keeps the first
 * engagement and announces nothing.
 */
export function changePlatformKillSwitch(
  ctx: RequestContext,
  change: { engage: true; reason: string } | { engage: false },
): Promise<PlatformKillSwitchState> {
  if (!ctx.operator) {
    throw new ForbiddenError(
      'The platform-wide kill switch stops every tenant: only Admins of a platform operator tenant (OPERATOR_TENANT_IDS) may change it; use engageKillSwitch for your own tenant',
    );
  }
  const reason = change.engage ? checkedKillReason(change.reason) : null;
  return ctx.db.run(async (em) => {
    const [row] = (await em.execute('select governance.set_platform_kill_switch(?, ?, ?) as changed', [
      change.engage,
      change.engage ? ctx.identity.displayName : null,
      reason,
    ])) as { changed: boolean }[];
    const state = await readPlatformKillSwitch(em);
    if (row?.changed) {
      await publish(em, KillSwitchChanged, {
        ...eventSource(ctx.identity),
        aggregate: { type: 'PlatformKillSwitch', id: 'platform' },
        payload: {
          engaged: state.engaged,
          reason: state.reason,
          scope: 'PLATFORM',
          engagedBy: state.engagedBy,
        },
      });
    }
    return state;
  });
}
