import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';
import { TASK_STATUSES, type TaskStatus } from '#contracts/enums.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { ConflictError, ValidationError } from '#kernel/errors.ts';
import { TaskRepository } from './task.repository.ts';

export { TASK_STATUSES, type TaskStatus };

/** Statuses a task may move to from each status; finished tasks move nowhere. */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  PENDING: ['RUNNING', 'WAITING_FOR_APPROVAL', 'PAUSED', 'CANCELLED', 'FAILED'],
  RUNNING: ['WAITING_FOR_APPROVAL', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED'],
  WAITING_FOR_APPROVAL: ['RUNNING', 'PAUSED', 'FAILED', 'CANCELLED'],
  PAUSED: ['RUNNING', 'WAITING_FOR_APPROVAL', 'CANCELLED', 'FAILED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
};

/** Longest task title. */
export const MAX_TITLE_LENGTH = 500;
/** Longest task goal. */
export const MAX_GOAL_LENGTH = 2000;
/** Most steps one plan may have. */
export const MAX_STEPS = 50;
/** Who plans a task: the caller (its steps are given) or the LLM planner (from its goal). */
export const TASK_PLANNERS = ['CALLER', 'LLM'] as const;
/** Who plans a task. */
export type TaskPlanner = (typeof TASK_PLANNERS)[number];

const TaskSchema = defineEntity({
  name: 'Task',
  schema: 'agent',
  tableName: 'tasks',
  repository: () => TaskRepository,
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    title: p.text(),
    goal: p.text().nullable(),
    status: p.enum(TASK_STATUSES),
    createdBy: p.uuid(),
    createdByName: p.text(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
    planner: p.enum(TASK_PLANNERS),
    /** The LLM planner's final answer. */
    answer: p.text().nullable(),
    /** Why the LLM planner stopped the task (a bound, a model failure). */
    plannerError: p.text().nullable(),
    plannerModelCalls: p.integer(),
    /** Tool calls the model proposed, malformed ones included (the steps bound counts them). */
    plannerToolCalls: p.integer(),
    plannerPromptTokens: p.integer(),
    plannerCompletionTokens: p.integer(),
    /** Time spent in model calls. */
    plannerElapsedMs: p.integer(),
    /** The version of the `agent.planner` prompt that opened the conversation (ADR 0038); null before it did. */
    plannerPromptVersion: p.integer().nullable(),
  },
});

/** A unit of work an agent carries out; created PENDING by a verified identity. */
export class Task extends TaskSchema.class {
  /** Creates a pending task, validating its title. */
  static open(title: string, creator: Identity, goal?: string, planner: TaskPlanner = 'CALLER'): Task {
    const task = new Task();
    const now = new Date();
    task.id = randomUUID();
    task.tenantId = creator.tenantId;
    task.title = Task.validTitle(title);
    if (goal !== undefined) task.goal = Task.validGoal(goal);
    task.status = 'PENDING';
    task.createdBy = creator.subjectId;
    task.createdByName = creator.displayName;
    task.createdAt = now;
    task.updatedAt = now;
    task.planner = planner;
    task.answer = null;
    task.plannerError = null;
    task.plannerModelCalls = 0;
    task.plannerToolCalls = 0;
    task.plannerPromptTokens = 0;
    task.plannerCompletionTokens = 0;
    task.plannerElapsedMs = 0;
    task.plannerPromptVersion = null;
    return task;
  }

  /** Moves the task to `status`; CONFLICT when the transition is not allowed. Returns the old status. */
  moveTo(status: TaskStatus): TaskStatus {
    const from = this.status;
    if (!TASK_TRANSITIONS[from].includes(status)) {
      throw new ConflictError(`Task ${this.id} is ${from} and cannot become ${status}`, {
        status: from,
        requested: status,
      });
    }
    this.status = status;
    this.updatedAt = new Date();
    return from;
  }

  private static validGoal(goal: string): string {
    const trimmed = goal.trim();
    if (trimmed.length === 0) throw new ValidationError('goal must not be empty', { field: 'goal' });
    if (trimmed.length > MAX_GOAL_LENGTH) {
      throw new ValidationError(
        `goal must be at most ${MAX_GOAL_LENGTH} characters (got ${trimmed.length})`,
        {
          field: 'goal',
        },
      );
    }
    return trimmed;
  }

  private static validTitle(title: string): string {
    const trimmed = title.trim();
    if (trimmed.length === 0) throw new ValidationError('title must not be empty', { field: 'title' });
    if (trimmed.length > MAX_TITLE_LENGTH) {
      throw new ValidationError(
        `title must be at most ${MAX_TITLE_LENGTH} characters (got ${trimmed.length})`,
        {
          field: 'title',
        },
      );
    }
    return trimmed;
  }
}

TaskSchema.setClass(Task);

export { TaskSchema };
