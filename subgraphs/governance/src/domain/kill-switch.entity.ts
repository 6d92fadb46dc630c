import { defineEntity, p } from '@mikro-orm/postgresql';

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
}

KillSwitchSchema.setClass(KillSwitch);

export { KillSwitchSchema };
