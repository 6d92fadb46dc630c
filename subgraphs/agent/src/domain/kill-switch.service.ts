import { LockMode } from '@mikro-orm/postgresql';
import type { ConsumerContext } from '#events/consumer/consumer.ts';
import { KillSwitchState } from './kill-switch-state.entity.ts';
import { announceNext, moveTask } from './step-runner.ts';
import { Task } from './task.entity.ts';

/** Tasks the kill switch pauses. */
const ACTIVE = ['PENDING', 'RUNNING', 'WAITING_FOR_APPROVAL'] as const;

/**
 * Applies a kill-switch change to the runners' copy and to the tasks. Engaged: the copy commits
 * first (in-flight steps see it and abort), and every active task not locked by a running step
 * goes PAUSED (a running step pauses its own task when it aborts). Released: every paused task is
 * announced again and resumes where it was.
 */
export async function applyKillSwitch(
  ctx: ConsumerContext,
  tenantId: string,
  engaged: boolean,
  reason: string | null,
  changedAt: Date,
): Promise<void> {
  const { em } = ctx;
  await em.execute(
    `insert into agent.kill_switch_state (tenant_id, engaged, reason, changed_at) values (?, ?, ?, ?)
     on conflict (tenant_id) do update set engaged = excluded.engaged, reason = excluded.reason,
       changed_at = excluded.changed_at where agent.kill_switch_state.changed_at <= excluded.changed_at`,
    [tenantId, engaged, reason, changedAt],
  );
  const state = await em.findOne(KillSwitchState, { tenantId }, { refresh: true });
  if (state?.engaged !== engaged) return; // an older change arrived after a newer one
  const tasks = await em.find(
    Task,
    { status: engaged ? { $in: [...ACTIVE] } : 'PAUSED' },
    { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
  );
  for (const task of tasks) {
    const owner = { id: task.createdBy, name: task.createdByName };
    if (engaged) await moveTask(ctx, task, 'PAUSED', `kill switch engaged: ${reason ?? ''}`.trim(), owner);
    else await announceNext(ctx, task, owner);
  }
}
