import type { EntityManager } from '@mikro-orm/postgresql';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { KillSwitch } from '../domain/kill-switch.entity.ts';
import { type PlatformKillSwitchState, readPlatformKillSwitch } from '../domain/platform-kill-switch.ts';

/** What `KillSwitch` resolves to: the tenant's switch with the platform-wide one beside it. */
export interface KillSwitchView {
  engaged: boolean;
  engagedBy: string | null;
  engagedAt: Date | null;
  reason: string | null;
  platform: PlatformKillSwitchState & { canChange: boolean };
  effective: boolean;
}

/** The view of a tenant's switch (`own`) and the platform's, for a caller who may change it or not. */
export function killSwitchView(
  own: KillSwitch,
  platform: PlatformKillSwitchState,
  canChange: boolean,
): KillSwitchView {
  return {
    engaged: own.engaged,
    engagedBy: own.engagedBy ?? null,
    engagedAt: own.engagedAt ?? null,
    reason: own.reason ?? null,
    platform: { ...platform, canChange },
    effective: own.engaged || platform.engaged,
  };
}

/** Reads the view of the caller's tenant in `em` (a transaction of that tenant). */
export async function readKillSwitchView(em: EntityManager, ctx: RequestContext): Promise<KillSwitchView> {
  const tenantId = ctx.db.tenantId;
  const own = (await em.findOne(KillSwitch, { tenantId })) ?? KillSwitch.disengaged(tenantId);
  const canChange = ctx.operator && ctx.identity.roles.includes('Admin');
  return killSwitchView(own, await readPlatformKillSwitch(em), canChange);
}
