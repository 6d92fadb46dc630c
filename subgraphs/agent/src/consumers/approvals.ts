import { LockMode } from '@mikro-orm/postgresql';
import { ApprovalDecided, ApprovalRequested } from '#contracts/events/governance.ts';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { RetryableError, UnrecoverableError } from '#events/errors.ts';
import { Task, TaskSchema, type TaskStatus } from '../domain/task.entity.ts';
import { TaskStatusChanged } from '../events.ts';

const FINISHED: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * `agent-approvals`: a task waits while a human decides (approval.requested → WAITING_FOR_APPROVAL)
 * and resumes or stops with the decision (APPROVED → RUNNING, REJECTED → CANCELLED). Each change is
 * announced as task.status_changed through the outbox in the same transaction.
 */
export const agentApprovals = defineConsumer({
  group: 'agent-approvals',
  events: [ApprovalRequested, ApprovalDecided],
  entities: [TaskSchema],
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
    let to: TaskStatus;
    let reason: string;
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
  },
});
