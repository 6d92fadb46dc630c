import { LockMode } from '@mikro-orm/postgresql';
import { callDigest } from '#contracts/call-digest.ts';
import type { ConsumerContext } from '#events/consumer/consumer.ts';
import { UnrecoverableError } from '#events/errors.ts';
import type { AgentConfig } from '../config.ts';
import { ApprovalNeeded, TaskStatusChanged, TaskStepCompleted, TaskStepReady } from '../events.ts';
import { planNext } from '../planner/plan-next.ts';
import type { Planner } from '../planner/planner.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import type { ToolDefinition, ToolPrincipal } from '../tools/tool.ts';
import { killSwitchEngaged } from './kill-switch-state.entity.ts';
import { Task, type TaskStatus } from './task.entity.ts';
import { TaskStep } from './task-step.entity.ts';
import { auditToolCall, callTool } from './tool-call.ts';
import { currentPolicy } from './tool-policy.entity.ts';

const FINISHED: readonly TaskStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/** What the runner needs: the tools, the step settings, and the LLM planner (none offline). */
export interface RunnerDependencies {
  tools: ToolRegistry;
  steps: AgentConfig['steps'];
  planner?: Planner | undefined;
}

/**
 * Advances a task by at most one step, in the handler's transaction (the task row locked):
 * paused while the kill switch is engaged; a step whose call needs approval waits for one bound to
 * its exact arguments, policy version and expiry; otherwise the next unfinished step's tool runs,
 * its result or error is stored with its timing, and the next step is announced. A runner that
 * crashes mid-step rolls the whole step back, so the redelivered event resumes at that step and a
 * database effect of the step happens exactly once.
 */
export async function advanceTask(
  taskId: string,
  deps: RunnerDependencies,
  ctx: ConsumerContext,
): Promise<void> {
  const { em } = ctx;
  const task = await em.findOne(Task, { id: taskId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  if (!task) throw new UnrecoverableError(`task ${taskId} does not exist`);
  if (FINISHED.includes(task.status)) return;
  const owner: ToolPrincipal = { id: task.createdBy, name: task.createdByName };
  const move = (to: TaskStatus, reason: string) => moveTask(ctx, task, to, reason, owner);
  if (await killSwitchEngaged(em)) {
    if (task.status !== 'PAUSED') await move('PAUSED', 'kill switch engaged');
    return;
  }
  const steps = await em.find(TaskStep, { taskId }, { orderBy: { ordinal: 'asc' } });
  const step = steps.find((s) => !s.finished);
  if (!step && task.planner === 'LLM') {
    await planNext(ctx, task, steps, owner, deps);
    return;
  }
  if (!step) {
    await move('COMPLETED', `all ${steps.length} steps succeeded`);
    return;
  }
  if (callDigest(step.tool, step.input) !== step.inputDigest) {
    // The stored arguments are not the planned ones: nothing approved or planned covers them.
    await failStep(
      ctx,
      task,
      step,
      owner,
      'FAILED',
      "the step's arguments changed after it was planned; refused",
    );
    return;
  }
  let tool: ToolDefinition;
  try {
    tool = deps.tools.get(step.tool);
  } catch {
    await failStep(ctx, task, step, owner, 'FAILED', `tool ${step.tool} is not registered`);
    return;
  }
  if (!tool.riskLevel) {
    await failStep(ctx, task, step, owner, 'FAILED', `tool ${step.tool} has no risk class, so it cannot run`);
    return;
  }
  const policy = await currentPolicy(em, task.tenantId);
  const rule = policy.ruleFor(tool.name, tool.riskLevel);
  step.riskLevel = rule.riskLevel;
  if (rule.requiresApproval && !step.approvedFor(policy.version, rule.approvers)) {
    await awaitApproval(ctx, task, step, owner, policy.version, rule);
    return;
  }
  if (task.status !== 'RUNNING') await move('RUNNING', `step ${step.ordinal} (${step.tool}) starts`);
  step.status = 'RUNNING';
  step.attempts += 1;
  step.startedAt = new Date();
  step.error = null;
  await em.flush();
  const result = await callTool(em, tool, step, owner, deps.steps);
  if (result.kind === 'killed') {
    // Not an attempt: the step starts again from scratch on release.
    step.status = 'PENDING';
    step.attempts -= 1;
    const agent = await moveTask(
      ctx,
      task,
      'PAUSED',
      `kill switch engaged during step ${step.ordinal}`,
      owner,
    );
    await auditToolCall(em, step, agent, owner, 'denied');
    return;
  }
  if (result.kind === 'failed') {
    if (step.attempts < step.maxAttempts) {
      step.status = 'PENDING';
      step.error = result.error.slice(0, 2000);
      await em.flush();
      const agent = await announceNext(ctx, task, owner);
      await auditToolCall(em, step, agent, owner, 'failed');
      return;
    }
    await failStep(ctx, task, step, owner, 'FAILED', `${result.error} (after ${step.attempts} attempts)`);
    return;
  }
  step.finish('SUCCEEDED', { output: result.output });
  step.error = null;
  await em.flush();
  const agent = (await completed(ctx, step, owner)).actor;
  await auditToolCall(em, step, agent, owner, 'success');
  // A planned task's model sees the result next (planNext), and decides whether it is done.
  if (steps.at(-1) === step && task.planner !== 'LLM')
    await move('COMPLETED', `all ${steps.length} steps succeeded`);
  else await announceNext(ctx, task, owner);
}

async function awaitApproval(
  ctx: ConsumerContext,
  task: Task,
  step: TaskStep,
  owner: ToolPrincipal,
  version: number,
  rule: { riskLevel: 'SAFE' | 'MEDIUM' | 'HIGH'; approvers: number },
): Promise<void> {
  const boundHere = step.approvalDigest === step.inputDigest && step.approvalPolicyVersion === version;
  if (boundHere && step.approvedAt && step.approvalExpiresAt && step.approvalExpiresAt <= new Date()) {
    await failStep(
      ctx,
      task,
      step,
      owner,
      'EXPIRED',
      `approval ${step.approvalId} expired before the step ran`,
    );
    return;
  }
  if (boundHere && step.status === 'WAITING_FOR_APPROVAL' && !step.approvedAt) {
    if (task.status !== 'WAITING_FOR_APPROVAL') {
      await moveTask(
        ctx,
        task,
        'WAITING_FOR_APPROVAL',
        `step ${step.ordinal} still waits for approval`,
        owner,
      );
    }
    return;
  }
  // A new request: nothing granted before (for other arguments or another policy) carries over.
  step.status = 'WAITING_FOR_APPROVAL';
  step.approvalId = null;
  step.approvalDigest = step.inputDigest;
  step.approvalPolicyVersion = version;
  step.approvalExpiresAt = null;
  step.approvedBy = null;
  step.approvedAt = null;
  await ctx.em.flush();
  await ctx.publish(ApprovalNeeded, {
    aggregate: { type: 'Task', id: task.id },
    onBehalfOf: owner,
    payload: {
      taskId: task.id,
      stepId: step.id,
      tool: step.tool,
      arguments: step.input,
      digest: step.inputDigest,
      riskLevel: rule.riskLevel,
      policyVersion: version,
      approvers: Math.max(1, rule.approvers),
      requestedBy: owner,
      reason: `step ${step.ordinal} of "${task.title}" calls ${step.tool} (${rule.riskLevel})`.slice(0, 2000),
    },
  });
  if (task.status !== 'WAITING_FOR_APPROVAL') {
    await moveTask(
      ctx,
      task,
      'WAITING_FOR_APPROVAL',
      `step ${step.ordinal} (${step.tool}) needs approval`,
      owner,
    );
  }
}

/** Ends a step and its task unsuccessfully (a failed, rejected or expired step fails closed). */
export async function failStep(
  ctx: ConsumerContext,
  task: Task,
  step: TaskStep,
  owner: ToolPrincipal,
  status: 'FAILED' | 'REJECTED' | 'EXPIRED',
  error: string,
): Promise<void> {
  step.finish(status, { error });
  await ctx.em.flush();
  const agent = (await completed(ctx, step, owner)).actor;
  await auditToolCall(ctx.em, step, agent, owner, status === 'FAILED' ? 'failed' : 'denied');
  const to: TaskStatus = status === 'REJECTED' ? 'CANCELLED' : 'FAILED';
  await moveTask(ctx, task, to, `step ${step.ordinal} ${status.toLowerCase()}: ${error}`, owner);
}

function completed(ctx: ConsumerContext, step: TaskStep, owner: ToolPrincipal) {
  return ctx.publish(TaskStepCompleted, {
    aggregate: { type: 'Task', id: step.taskId },
    onBehalfOf: owner,
    payload: {
      taskId: step.taskId,
      stepId: step.id,
      ordinal: step.ordinal,
      tool: step.tool,
      status: step.status,
    },
  });
}

/** Where a task's moves are written and announced: a transaction and a publisher into its outbox. */
export type TaskEvents = Pick<ConsumerContext, 'em' | 'publish'>;

/** Announces that the task has a step to run; returns the acting agent. */
export async function announceNext(ctx: TaskEvents, task: Task, owner: ToolPrincipal) {
  return (
    await ctx.publish(TaskStepReady, {
      aggregate: { type: 'Task', id: task.id },
      onBehalfOf: owner,
      payload: { taskId: task.id },
    })
  ).actor;
}

/** Moves the task and announces the change; returns the acting agent. */
export async function moveTask(
  ctx: TaskEvents,
  task: Task,
  to: TaskStatus,
  reason: string,
  owner: ToolPrincipal,
) {
  const from = task.moveTo(to);
  await ctx.em.flush();
  const envelope = await ctx.publish(TaskStatusChanged, {
    aggregate: { type: 'Task', id: task.id },
    onBehalfOf: owner,
    payload: { taskId: task.id, from, to, reason: reason.slice(0, 500) },
  });
  return envelope.actor;
}
