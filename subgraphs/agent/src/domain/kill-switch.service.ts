import { LockMode } from '@mikro-orm/postgresql';
import type { ConsumerContext } from '#events/consumer/consumer.ts';
import { publish } from '#events/producer/outbox.ts';
import { recordAudit } from '#kernel/audit/audit-log.ts';
import { isUuid } from '#kernel/ids.ts';
import { KillSwitchState, platformKillSwitchEngaged } from './kill-switch-state.entity.ts';
import { announceNext, moveTask, type TaskEvents } from './step-runner.ts';
import { Task } from './task.entity.ts';

/** Tasks the kill switch pauses. */
const ACTIVE = ['PENDING', 'RUNNING', 'WAITING_FOR_APPROVAL'] as const;

/** One kill-switch change as the runners read it from `killswitch.changed`. */
export interface KillSwitchChange {
  engaged: boolean;
  reason: string | null;
  changedAt: Date;
  /** Who engaged it (display name), when known. */
  engagedBy?: string | null;
}

/**
 * Applies a change of a tenant's own switch to the runners' copy and to the tasks. Engaged: the
 * copy commits first (in-flight steps see it and abort), and every active task not locked by a
 * running step goes PAUSED (a running step pauses its own task when it aborts). Released: every
 * paused task is announced again and resumes where it was, unless the platform-wide switch still
 * holds them.
 */
export async function applyKillSwitch(
  ctx: ConsumerContext,
  tenantId: string,
  change: KillSwitchChange,
): Promise<void> {
  const { em } = ctx;
  // Applied once: a change already applied (by the other group reading it) or older than the copy
  // changes nothing, and the tasks are left alone.
  const applied = (await em.execute(
    `insert into agent.kill_switch_state as k (tenant_id, engaged, reason, changed_at) values (?, ?, ?, ?)
     on conflict (tenant_id) do update set engaged = excluded.engaged, reason = excluded.reason,
       changed_at = excluded.changed_at
     where k.changed_at <= excluded.changed_at
       and (k.changed_at, k.engaged) is distinct from (excluded.changed_at, excluded.engaged)
     returning tenant_id`,
    [tenantId, change.engaged, change.reason, change.changedAt],
  )) as unknown[];
  if (applied.length === 0) return;
  if (!change.engaged && (await platformKillSwitchEngaged(em))) return;
  await applyToTasks(ctx, change.engaged, `kill switch engaged: ${change.reason ?? ''}`.trim());
}

/**
 * Applies a change of the platform-wide switch (an event of the operator tenant): the runners'
 * copy (a one-row table every tenant reads, changed only through a SECURITY DEFINER function)
 * commits with the tasks of every tenant paused or resumed in the same transaction. The tenants
 * come from a function that returns their ids only; the transaction then switches its
 * `app.tenant_id` to each in turn, so every task is read and moved under its own tenant's RLS,
 * its events published and an audit record written in that tenant. A tenant whose own switch is
 * engaged stays paused on release.
 */
export async function applyPlatformKillSwitch(
  ctx: ConsumerContext,
  operatorTenantId: string,
  change: KillSwitchChange,
): Promise<void> {
  const { em } = ctx;
  const [row] = (await em.execute('select agent.apply_platform_kill_switch(?, ?, ?) as applied', [
    change.engaged,
    change.reason,
    change.changedAt,
  ])) as { applied: boolean }[];
  if (!row?.applied) return; // applied already, or older than the copy
  const statuses = change.engaged ? [...ACTIVE] : ['PAUSED'];
  const tenants = (
    (await em.execute("select agent.tenants_with_tasks(string_to_array(?, ',')) as tenant_id", [
      statuses.join(','),
    ])) as {
      tenant_id: string;
    }[]
  ).map((r) => r.tenant_id);
  const by = change.engagedBy ? ` by ${change.engagedBy}` : '';
  const reason = change.engaged
    ? `platform kill switch engaged${by}: ${change.reason ?? ''}`.trim()
    : 'platform kill switch released';
  try {
    for (const tenantId of tenants) {
      await switchTenant(ctx, tenantId);
      if (!change.engaged) {
        const own = await em.findOne(KillSwitchState, { tenantId }, { refresh: true });
        if (own?.engaged) continue;
      }
      const events = tenantEvents(ctx, tenantId);
      const moved = await applyToTasks(events, change.engaged, reason);
      if (moved === 0 || tenantId === operatorTenantId) continue;
      await recordAudit(em, tenantId, {
        actor: ctx.actor,
        action: `agent-runner.killswitch.platform_${change.engaged ? 'engaged' : 'released'}`,
        targetType: 'PlatformKillSwitch',
        targetId: 'platform',
        outcome: 'success',
        input: { operatorTenantId, reason: change.reason, engagedBy: change.engagedBy ?? null, tasks: moved },
      });
    }
  } finally {
    await switchTenant(ctx, operatorTenantId);
  }
}

/** Pauses (engaged) or re-announces (released) the transaction tenant's tasks; returns how many. */
async function applyToTasks(ctx: TaskEvents, engaged: boolean, reason: string): Promise<number> {
  const tasks = await ctx.em.find(
    Task,
    { status: engaged ? { $in: [...ACTIVE] } : 'PAUSED' },
    { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
  );
  for (const task of tasks) {
    const owner = { id: task.createdBy, name: task.createdByName };
    if (engaged) await moveTask(ctx, task, 'PAUSED', reason, owner);
    else await announceNext(ctx, task, owner);
  }
  return tasks.length;
}

/** Sets the transaction's tenant (RLS reads it); the id comes from the database, checked anyway. */
async function switchTenant(ctx: ConsumerContext, tenantId: string): Promise<void> {
  if (!isUuid(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
  await ctx.em.execute(`select set_config('app.tenant_id', '${tenantId.toLowerCase()}', true)`);
}

/** Publishing into another tenant's outbox, as the worker, for the task owners. */
function tenantEvents(ctx: ConsumerContext, tenantId: string): TaskEvents {
  return {
    em: ctx.em,
    publish: (definition, input) =>
      publish(ctx.em, definition, {
        ...input,
        tenantId,
        actor: ctx.actor,
        ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
      }),
  };
}
