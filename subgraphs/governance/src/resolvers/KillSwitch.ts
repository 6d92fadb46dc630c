import type { EntityManager } from '@mikro-orm/postgresql';
import { KillSwitch } from '../domain/kill-switch.entity.ts';
import { type PlatformKillSwitchState, readPlatformKillSwitch } from '../domain/platform-kill-switch.ts';

/** What `KillSwitch` resolves to: the tenant's switch with the platform-wide one beside it. */
export interface KillSwitchView {
  engaged: boolean;
  engagedBy: string | null;
  engagedAt: Date | null;
  reason: string | null;
  platform: PlatformKillSwitchState;
  effective: boolean;
}

/** The view of a tenant's switch (`own`) and the platform's. */
export function killSwitchView(own: KillSwitch, platform: PlatformKillSwitchState): KillSwitchView {
  return {
    engaged: own.engaged,
    engagedBy: own.engagedBy ?? null,
    engagedAt: own.engagedAt ?? null,
    reason: own.reason ?? null,
    platform,
    effective: own.engaged || platform.engaged,
  };
}

/** Reads the view of the transaction's tenant (`tenantId`) in `em`. */
export async function readKillSwitchView(em: EntityManager, tenantId: string): Promise<KillSwitchView> {
  const own = (await em.findOne(KillSwitch, { tenantId })) ?? KillSwitch.disengaged(tenantId);
  return killSwitchView(own, await readPlatformKillSwitch(em));
}
