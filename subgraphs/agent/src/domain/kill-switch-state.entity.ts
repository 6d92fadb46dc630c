import { defineEntity, p } from '@mikro-orm/postgresql';

const KillSwitchStateSchema = defineEntity({
  name: 'KillSwitchState',
  schema: 'agent',
  tableName: 'kill_switch_state',
  properties: {
    tenantId: p.uuid().primary(),
    engaged: p.boolean(),
    reason: p.text().nullable(),
    changedAt: p.datetime(3),
  },
});

/**
 * The runners' copy of a tenant's kill switch, kept from governance's `killswitch.changed` events
 * in agent's own schema (a subgraph never reads another's tables); in Postgres, so it survives
 * restarts of every process and of Redis.
 */
export class KillSwitchState extends KillSwitchStateSchema.class {}

KillSwitchStateSchema.setClass(KillSwitchState);

export { KillSwitchStateSchema };

/**
 * Whether the tenant of the transaction `em` runs in is stopped: its own kill switch or the
 * platform-wide one (the runners' copy, a one-row table every tenant reads) is engaged. One
 * statement, two primary-key reads.
 */
export async function killSwitchEngaged(em: {
  execute: (sql: string) => Promise<unknown>;
}): Promise<boolean> {
  const rows = (await em.execute(
    `select coalesce((select engaged from agent.kill_switch_state
                       where tenant_id = current_setting('app.tenant_id')::uuid), false)
         or coalesce((select engaged from agent.platform_kill_switch_state where id), false) as engaged`,
  )) as { engaged: boolean }[];
  return rows[0]?.engaged === true;
}

/** Whether the platform-wide kill switch is engaged (the runners' copy). */
export async function platformKillSwitchEngaged(em: {
  execute: (sql: string) => Promise<unknown>;
}): Promise<boolean> {
  const rows = (await em.execute('select engaged from agent.platform_kill_switch_state where id')) as {
    engaged: boolean;
  }[];
  return rows[0]?.engaged === true;
}
