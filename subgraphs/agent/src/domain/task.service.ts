import type { EntityManager } from '@mikro-orm/postgresql';
import { eventSource, publish } from '#events/producer/outbox.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { ValidationError } from '#kernel/errors.ts';
import { TaskCreated, TaskStepReady } from '../events.ts';
import { PLANNER_SETTING } from '../planner/planner.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { MAX_STEPS, Task, type TaskPlanner } from './task.entity.ts';
import { TaskStep } from './task-step.entity.ts';

/** What a caller asks for: a goal and a plan of tool calls, or a goal the LLM planner plans. */
export interface CreateTaskInput {
  title?: string | null;
  goal?: string | null;
  steps?: { tool: string; input: Record<string, unknown> }[] | null;
  planner?: TaskPlanner | null;
}

/**
 * Creates a task owned by `creator` with its planned steps (each tool known, classified and its
 * input valid, or BAD_USER_INPUT naming the step), and hands it to the runners when it has steps.
 * `planner: LLM` makes the LLM planner plan the goal (no steps given), which needs a language model
 * (`options.llm`): without one the task is refused, naming the setting.
 */
export async function createTask(
  em: EntityManager,
  tools: ToolRegistry,
  creator: Identity,
  input: CreateTaskInput,
  maxAttempts: number,
  options: { llm?: boolean } = {},
): Promise<Task> {
  const goal = input.goal ?? undefined;
  const title = input.title ?? goal?.trim().slice(0, 500);
  if (title === undefined) throw new ValidationError('either title or goal is required', { field: 'goal' });
  const planner = input.planner ?? 'CALLER';
  if (planner === 'LLM') {
    if (goal === undefined) throw new ValidationError('planner LLM needs a goal to plan', { field: 'goal' });
    if (input.steps?.length) {
      throw new ValidationError('planner LLM plans the steps itself: give either steps or planner LLM', {
        field: 'steps',
      });
    }
    if (!options.llm) {
      throw new ValidationError(
        `planner LLM needs a language model, and none is configured (${PLANNER_SETTING}=offline): set ${PLANNER_SETTING} to openai or azure (see the LLM_* settings), or give the plan as steps`,
        { field: 'planner' },
      );
    }
  }
  const planned = input.steps ?? [];
  if (planned.length > MAX_STEPS) {
    throw new ValidationError(`steps must be at most ${MAX_STEPS} (got ${planned.length})`, {
      field: 'steps',
    });
  }
  const task = Task.open(title, creator, goal, planner);
  const steps = planned.map((s, i) => {
    const checked = tools.check(s.tool, s.input, `steps.${i}.input`);
    return TaskStep.plan(task, i, s.tool, checked.input, maxAttempts);
  });
  // The steps reference the task by a foreign key the ORM does not know: the task goes first.
  em.persist(task);
  await em.flush();
  if (steps.length > 0) {
    em.persist(steps);
    await em.flush();
  }
  await publish(em, TaskCreated, {
    ...eventSource(creator),
    aggregate: { type: 'Task', id: task.id },
    payload: { taskId: task.id, title: task.title },
  });
  if (steps.length > 0 || planner === 'LLM') {
    await publish(em, TaskStepReady, {
      ...eventSource(creator),
      aggregate: { type: 'Task', id: task.id },
      payload: { taskId: task.id },
    });
  }
  return task;
}
