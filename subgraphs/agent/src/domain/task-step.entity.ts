import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';
import { callDigest } from '#contracts/call-digest.ts';
import { RISK_LEVELS, STEP_STATUSES, type StepStatus } from '#contracts/enums.ts';

export { STEP_STATUSES, type StepStatus };

/** Statuses after which a step never runs again. */
export const FINISHED_STEP: readonly StepStatus[] = [
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
];

/** Who approved a call, as governance reported it. */
export interface Approver {
  id: string;
  name: string;
}

const TaskStepSchema = defineEntity({
  name: 'TaskStep',
  schema: 'agent',
  tableName: 'task_steps',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    taskId: p.uuid(),
    ordinal: p.integer(),
    tool: p.text(),
    input: p.json<Record<string, unknown>>(),
    inputDigest: p.text(),
    status: p.enum(STEP_STATUSES),
    riskLevel: p.enum(RISK_LEVELS).nullable(),
    output: p.json<Record<string, unknown>>().nullable(),
    error: p.text().nullable(),
    attempts: p.integer(),
    maxAttempts: p.integer(),
    idempotencyKey: p.text(),
    approvalId: p.uuid().nullable(),
    approvalDigest: p.text().nullable(),
    approvalPolicyVersion: p.integer().nullable(),
    approvalExpiresAt: p.datetime(3).nullable(),
    approvedBy: p.json<Approver[]>().nullable(),
    approvedAt: p.datetime(3).nullable(),
    startedAt: p.datetime(3).nullable(),
    finishedAt: p.datetime(3).nullable(),
    /** The model's id of the tool call this step is (steps the LLM planner proposed). */
    toolCallId: p.text().nullable(),
  },
});

/** Longest stored error text. */
const MAX_ERROR = 2000;

/** One tool call of a task: its exact input, its result, and the approval it may need. */
export class TaskStep extends TaskStepSchema.class {
  /** A pending step; its idempotency key is its own id's, fixed for every attempt. */
  static plan(
    task: { id: string; tenantId: string },
    ordinal: number,
    tool: string,
    input: Record<string, unknown>,
    maxAttempts: number,
    toolCallId: string | null = null,
  ): TaskStep {
    const step = new TaskStep();
    step.id = randomUUID();
    step.tenantId = task.tenantId;
    step.taskId = task.id;
    step.ordinal = ordinal;
    step.tool = tool;
    step.input = input;
    step.inputDigest = callDigest(tool, input);
    step.status = 'PENDING';
    step.attempts = 0;
    step.maxAttempts = maxAttempts;
    step.idempotencyKey = `step:${step.id}`;
    step.toolCallId = toolCallId;
    return step;
  }

  /** Whether the step will never run again. */
  get finished(): boolean {
    return FINISHED_STEP.includes(this.status);
  }

  /**
   * Whether a granted approval covers exactly this call under policy `version` with `approvers`
   * distinct people, now: the digest of the stored input, the version and the expiry all match.
   */
  approvedFor(version: number, approvers: number, now = new Date()): boolean {
    return (
      this.approvedAt != null &&
      this.approvalDigest === callDigest(this.tool, this.input) &&
      this.approvalDigest === this.inputDigest &&
      this.approvalPolicyVersion === version &&
      new Set((this.approvedBy ?? []).map((a) => a.id)).size >= approvers &&
      this.approvalExpiresAt != null &&
      this.approvalExpiresAt.getTime() > now.getTime()
    );
  }

  /** Ends the step with `status`, keeping the error text bounded. */
  finish(status: StepStatus, result: { output?: Record<string, unknown>; error?: string } = {}): void {
    this.status = status;
    if (result.output) this.output = result.output;
    if (result.error !== undefined) this.error = result.error.slice(0, MAX_ERROR);
    this.finishedAt = new Date();
  }
}

TaskStepSchema.setClass(TaskStep);

export { TaskStepSchema };
