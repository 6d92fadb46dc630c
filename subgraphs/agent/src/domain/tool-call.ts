import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor } from '#events/catalogue.ts';
import { recordAudit } from '#kernel/audit/audit-log.ts';
import type { ToolDefinition, ToolOutput, ToolPrincipal } from '../tools/tool.ts';
import { killSwitchEngaged } from './kill-switch-state.entity.ts';
import type { TaskStep } from './task-step.entity.ts';

/** How one tool call ended. */
export type CallResult =
  | { kind: 'succeeded'; output: ToolOutput }
  | { kind: 'failed'; error: string }
  | { kind: 'killed' };

/** Options of {@link callTool}. */
export interface CallOptions {
  timeoutMs: number;
  /** How often the kill switch is looked at while the tool runs. */
  killSwitchPollMs: number;
}

/** Why a call was aborted by the kill switch (the AbortSignal's reason). */
export class KillSwitchAbort extends Error {
  constructor() {
    super('the kill switch was engaged');
    this.name = 'KillSwitchAbort';
  }
}

/**
 * Runs one tool call inside a savepoint of the step's transaction: its database effects commit with
 * the step's result or vanish with it. The call is aborted (AbortSignal) when it times out or the
 * tenant's kill switch is engaged meanwhile. Never throws for the tool's own failure.
 */
export async function callTool(
  em: EntityManager,
  tool: ToolDefinition,
  step: TaskStep,
  owner: ToolPrincipal,
  options: CallOptions,
): Promise<CallResult> {
  const watch = watchStep(
    em,
    options,
    () => new Error(`${tool.name} took longer than ${options.timeoutMs} ms`),
  );
  try {
    const output = await em.transactional((tx) =>
      tool.run(step.input, {
        em: tx,
        tenantId: step.tenantId,
        taskId: step.taskId,
        idempotencyKey: step.idempotencyKey,
        owner,
        signal: watch.signal,
      }),
    );
    return { kind: 'succeeded', output };
  } catch (error) {
    if (watch.signal.reason instanceof KillSwitchAbort) return { kind: 'killed' };
    return { kind: 'failed', error: error instanceof Error ? error.message : String(error) };
  } finally {
    await watch.stop();
  }
}

/** The AbortSignal of one call of a step (a tool's or the planner's model call), and how to stop watching. */
export interface StepWatch {
  readonly signal: AbortSignal;
  stop(): Promise<void>;
}

/**
 * An AbortSignal for one call made while a task's row is locked: aborted with `timeout()`'s error
 * after `timeoutMs`, or with a {@link KillSwitchAbort} when the tenant's kill switch is engaged
 * meanwhile. `stop()` ends the watching (always call it).
 */
export function watchStep(em: EntityManager, options: CallOptions, timeout: () => Error): StepWatch {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timeout()), options.timeoutMs);
  let watching = true;
  // The pause between polls ends at once when the call does: an aborted step pauses its task without
  // waiting out the poll interval.
  let nap: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  const watcher = (async () => {
    while (watching) {
      await new Promise<void>((wake) => {
        nap = { timer: setTimeout(wake, options.killSwitchPollMs), wake };
      });
      if (!watching) return;
      // Read committed: each poll sees the switch as last committed, inside this transaction.
      if (await killSwitchEngaged(em).catch(() => false)) controller.abort(new KillSwitchAbort());
    }
  })();
  return {
    signal: controller.signal,
    async stop() {
      watching = false;
      clearTimeout(timer);
      if (nap) {
        clearTimeout(nap.timer);
        nap.wake();
      }
      await watcher;
    },
  };
}

/** Writes the audit record of one tool call: the agent's identity acting for the task owner. */
export function auditToolCall(
  em: EntityManager,
  step: TaskStep,
  agent: Actor,
  owner: ToolPrincipal,
  outcome: 'success' | 'failed' | 'denied',
): Promise<string> {
  return recordAudit(em, step.tenantId, {
    actor: { kind: agent.kind, id: agent.id, name: agent.name, onBehalfOf: owner },
    action: `agent.tool.${step.tool}`,
    targetType: 'TaskStep',
    targetId: step.id,
    outcome,
    input: { taskId: step.taskId, ordinal: step.ordinal, arguments: step.input, attempt: step.attempts },
  });
}
