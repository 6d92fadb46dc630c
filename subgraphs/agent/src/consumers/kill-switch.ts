import { KillSwitchChanged } from '#contracts/events/governance.ts';
import { type AnyEnvelope, type ConsumerContext, defineConsumer } from '#events/consumer/consumer.ts';
import { applyKillSwitch, applyPlatformKillSwitch } from '../domain/kill-switch.service.ts';
import { KillSwitchStateSchema } from '../domain/kill-switch-state.entity.ts';
import { TaskSchema } from '../domain/task.entity.ts';

/** The consumer group that applies kill-switch changes, beside the runners. */
export const AGENT_KILL_SWITCH_GROUP = 'agent-kill-switch';

/** Applies one `killswitch.changed` (the tenant's switch or the platform's) to the runners' copy and the tasks. */
export function handleKillSwitchChanged(
  event: AnyEnvelope<typeof KillSwitchChanged>,
  ctx: ConsumerContext,
): Promise<void> {
  const change = {
    engaged: event.payload.engaged,
    reason: event.payload.reason,
    engagedBy: event.payload.engagedBy ?? null,
    changedAt: new Date(event.occurredAt),
  };
  return event.payload.scope === 'PLATFORM'
    ? applyPlatformKillSwitch(ctx, event.tenantId, change)
    : applyKillSwitch(ctx, event.tenantId, change);
}

/**
 * `agent-kill-switch`: applies kill-switch changes in a group of its own. The runners read the
 * same events, but a runner whose every slot holds a long step reads nothing until one ends, and
 * its steps end early only once a change is applied: this group's workers never run a step, so a
 * change reaches the copy the in-flight steps watch however busy the runners are. Applying a
 * change twice (here and in a runner) has no second effect.
 */
export const agentKillSwitch = defineConsumer({
  group: AGENT_KILL_SWITCH_GROUP,
  events: [KillSwitchChanged],
  entities: [TaskSchema, KillSwitchStateSchema],
  handle: handleKillSwitchChanged,
});
