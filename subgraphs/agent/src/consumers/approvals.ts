import { LockMode } from '@mikro-orm/postgresql';
import { ApprovalDecided, ApprovalExpired, ApprovalRequested } from '#contracts/events/governance.ts';
import { type AnyEnvelope, type ConsumerContext, defineConsumer } from '#events/consumer/consumer.ts';
import { RetryableError, UnrecoverableError } from '#events/errors.ts';
import { announceNext, failStep } from '../domain/step-runner.ts';
import { Task, TaskSchema, type TaskStatus } from '../domain/task.entity.ts';
import { TaskStep, TaskStepSchema } from '../domain/task-step.entity.ts';
import { TaskStatusChanged } from '../events.ts';

const FINISHED: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

type Event = AnyEnvelope<typeof ApprovalRequested | typeof ApprovalDecided | typeof ApprovalExpired>;

/**
 * `agent-approvals`: applies governance's answers to tasks. For a request bound to a step's call,
 * an approval is recorded on the step only when it is for exactly the call the step waits for (same
 * digest of the same arguments, same policy version); the runner then checks it again, with its
 * expiry, before the tool runs. A rejection or an expiry fails the step closed. A request made by
 * hand (no step) only moves the task's status, as before: it never unlocks a step.
 */
export const agentApprovals = defineConsumer({
  group: 'agent-approvals',
  events: [ApprovalRequested, ApprovalDecided, ApprovalExpired],
  entities: [TaskSchema, TaskStepSchema],
  async handle(event, ctx) {
    const { taskId, approvalId } = event.payload;
    const task = await ctx.em.findOne(Task, { id: taskId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!task) throw new UnrecoverableError(`task ${taskId} of approval ${approvalId} does not exist`);
    if (FINISHED.includes(task.status)) {
      ctx.logger.info('approval event for a finished task ignored', {
        taskId,
        status: task.status,
        type: event.type,
      });
      return;
    }
    if (event.payload.stepId) await onStep(task, event.payload.stepId, event, ctx);
    else await onTask(task, event, ctx);
  },
});

async function onStep(task: Task, stepId: string, event: Event, ctx: ConsumerContext): Promise<void> {
  const step = await ctx.em.findOne(TaskStep, { id: stepId, taskId: task.id });
  if (!step) throw new UnrecoverableError(`step ${stepId} of task ${task.id} does not exist`);
  const owner = { id: task.createdBy, name: task.createdByName };
  const { approvalId } = event.payload;
  if (step.status !== 'WAITING_FOR_APPROVAL') {
    ctx.logger.info('approval event for a step that no longer waits ignored', {
      stepId,
      status: step.status,
    });
    return;
  }
  if (event.type === 'approval.expired') {
    if (step.approvalId && step.approvalId !== approvalId) return;
    await failStep(ctx, task, step, owner, 'EXPIRED', `approval ${approvalId} expired undecided`);
    return;
  }
  const digest = event.payload.digest;
  if (digest !== step.inputDigest || digest !== step.approvalDigest) {
    ctx.logger.warn('approval for another call of the step ignored', { stepId, approvalId });
    return;
  }
  if (event.type === 'approval.requested') {
    step.approvalId = approvalId;
    step.approvalExpiresAt = event.payload.expiresAt ? new Date(event.payload.expiresAt) : null;
    await ctx.em.flush();
    return;
  }
  if (event.payload.policyVersion !== step.approvalPolicyVersion) {
    ctx.logger.warn('approval under another policy version ignored', { stepId, approvalId });
    return;
  }
  if (event.payload.decision === 'REJECTED') {
    await failStep(ctx, task, step, owner, 'REJECTED', `rejected by ${event.payload.decidedBy}`);
    return;
  }
  step.approvalId = approvalId;
  step.approvedBy = event.payload.approvers ?? [];
  step.approvedAt = new Date();
  step.approvalExpiresAt = event.payload.expiresAt ? new Date(event.payload.expiresAt) : null;
  await ctx.em.flush();
  await announceNext(ctx, task, owner);
}

async function onTask(task: Task, event: Event, ctx: ConsumerContext): Promise<void> {
  const { taskId, approvalId } = event.payload;
  let to: TaskStatus;
  let reason: string;
  if (event.type === 'approval.expired') return;
  // A request made by hand never stands in for the approval of a planned step's call.
  if ((await ctx.em.count(TaskStep, { taskId })) > 0) {
    ctx.logger.warn('approval made by hand for a task with a plan ignored', { taskId, approvalId });
    return;
  }
  if (event.type === 'approval.requested') {
    if (task.status === 'WAITING_FOR_APPROVAL') return;
    to = 'WAITING_FOR_APPROVAL';
    reason = `approval ${approvalId} requested (${event.payload.riskLevel})`;
  } else {
    if (task.status !== 'WAITING_FOR_APPROVAL') {
      // approval.requested travels on another stream and may not have been applied yet
      throw new RetryableError(`task ${taskId} is ${task.status}, not yet WAITING_FOR_APPROVAL`);
    }
    to = event.payload.decision === 'APPROVED' ? 'RUNNING' : 'CANCELLED';
    reason = `approval ${approvalId} ${event.payload.decision.toLowerCase()} by ${event.payload.decidedBy}`;
  }
  const from = task.moveTo(to);
  await ctx.em.flush();
  await ctx.publish(TaskStatusChanged, {
    aggregate: { type: 'Task', id: task.id },
    payload: { taskId: task.id, from, to, reason },
  });
}
