import { defineEntity, p } from '@mikro-orm/postgresql';
import type { Identity } from '#kernel/auth/identity.ts';
import { ValidationError } from '#kernel/errors.ts';

const KillSwitchSchema = defineEntity({
  name: 'KillSwitch',
  schema: 'governance',
  tableName: 'kill_switches',
  properties: {
    tenantId: p.uuid().primary(),
    engaged: p.boolean(),
    engagedBy: p.text().nullable(),
    engagedAt: p.datetime(3).nullable(),
    reason: p.text().nullable(),
    changedAt: p.datetime(3).nullable(),
  },
});

/** A tenant's kill switch; a tenant without a row has never engaged it. */
export class KillSwitch extends KillSwitchSchema.class {
  /** The state of a tenant that has never engaged its switch. */
  static disengaged(tenantId: string): KillSwitch {
    const state = new KillSwitch();
    state.tenantId = tenantId;
    state.engaged = false;
    return state;
  }

  /**
   * Engages the switch with a reason (1 to 1000 characters); engaging twice keeps the first
   * engagement. Returns whether the state changed.
   */
  engage(by: Identity, reason: string): boolean {
    const trimmed = checkedKillReason(reason);
    if (this.engaged) return false;
    this.engaged = true;
    this.engagedBy = by.displayName;
    this.engagedAt = new Date();
    this.reason = trimmed;
    this.changedAt = this.engagedAt;
    return true;
  }

  /** Releases the switch. Returns whether the state changed. */
  release(): boolean {
    if (!this.engaged) return false;
    this.engaged = false;
    this.engagedBy = null;
    this.engagedAt = null;
    this.reason = null;
    this.changedAt = new Date();
    return true;
  }
}

/** Longest kill-switch reason. */
export const MAX_KILL_REASON_LENGTH = 1000;

/** The reason trimmed; ValidationError unless it has 1 to {@link MAX_KILL_REASON_LENGTH} characters. */
export function checkedKillReason(reason: string): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_KILL_REASON_LENGTH) {
    throw new ValidationError(
      `reason must be 1 to ${MAX_KILL_REASON_LENGTH} characters (got ${trimmed.length})`,
      {
        field: 'reason',
      },
    );
  }
  return trimmed;
}

KillSwitchSchema.setClass(KillSwitch);

export { KillSwitchSchema };
