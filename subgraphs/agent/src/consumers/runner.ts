import { trace } from '@opentelemetry/api';
import { KillSwitchChanged } from '#contracts/events/governance.ts';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { ATTR_SESSION_ID } from '#kernel/telemetry/attributes.ts';
import { loadAgentConfig } from '../config.ts';
import { KillSwitchStateSchema } from '../domain/kill-switch-state.entity.ts';
import { NoteSchema } from '../domain/note.entity.ts';
import { SentMailSchema } from '../domain/sent-mail.entity.ts';
import { advanceTask, type RunnerDependencies } from '../domain/step-runner.ts';
import { TaskSchema } from '../domain/task.entity.ts';
import { TaskStepSchema } from '../domain/task-step.entity.ts';
import { ToolPolicySchema } from '../domain/tool-policy.entity.ts';
import { TaskStepReady } from '../events.ts';
import { createPlanner } from '../planner/planner.ts';
import { TaskMessageSchema } from '../planner/task-message.entity.ts';
import { builtInTools } from '../tools/built-in.ts';
import { handleKillSwitchChanged } from './kill-switch.ts';

/** The consumer group of the task runners. */
export const AGENT_RUNNER_GROUP = 'agent-runner';

/** Entities the runner and its tools use. */
export const RUNNER_ENTITIES = [
  TaskSchema,
  TaskStepSchema,
  ToolPolicySchema,
  KillSwitchStateSchema,
  NoteSchema,
  SentMailSchema,
  TaskMessageSchema,
];

/**
 * `agent-runner`: runs tasks one step per `task.step_ready` event (any runner of the group may
 * take the next step; a crashed runner's event is reclaimed by another), and applies the tenant's
 * or the platform-wide kill switch (`killswitch.changed`) to the runners' copy and the tasks (as
 * `agent-kill-switch` does, which busy runners cannot delay).
 */
export function createAgentRunner(deps: RunnerDependencies) {
  return defineConsumer({
    group: AGENT_RUNNER_GROUP,
    events: [TaskStepReady, KillSwitchChanged],
    entities: RUNNER_ENTITIES,
    async handle(event, ctx) {
      if (event.type === 'task.step_ready') {
        // The task is the session of everything its step does (model calls included).
        trace.getActiveSpan()?.setAttribute(ATTR_SESSION_ID, event.payload.taskId);
        await advanceTask(event.payload.taskId, deps, ctx);
        return;
      }
      await handleKillSwitchChanged(event, ctx);
    },
  });
}

const config = loadAgentConfig();

/** The runner of `npm run worker -- --group agent-runner`, with the built-in tools and the LLM planner LLM_* names. */
export const agentRunner = createAgentRunner({
  tools: builtInTools(config),
  steps: config.steps,
  planner: createPlanner(config),
});
