import type { Actor } from '#events/catalogue.ts';
import type { ConsumerContext } from '#events/consumer/consumer.ts';
import { type AuditOutcome, recordAudit } from '#kernel/audit/audit-log.ts';
import { AppError } from '#kernel/errors.ts';
import { type ChatMessage, type ChatResult, parseToolArguments, type ToolCall } from '#llm/chat.ts';
import { scopeOfTransaction } from '#llm/generations/generation-recorder.ts';
import { type RecordingContext, recordedChat } from '#llm/generations/recorded-chat.ts';
import { PROMPT_NAMES } from '#llm/prompts/built-in.ts';
import type { PromptUse } from '#llm/prompts/prompt-store.ts';
import { announceNext, moveTask, type RunnerDependencies } from '../domain/step-runner.ts';
import type { Task } from '../domain/task.entity.ts';
import { TaskStep } from '../domain/task-step.entity.ts';
import { KillSwitchAbort, watchStep } from '../domain/tool-call.ts';
import type { ToolPrincipal } from '../tools/tool.ts';
import { modelTools } from './model-tools.ts';
import { openingPrompt, plannerVariables } from './planner.ts';
import { TaskMessage } from './task-message.entity.ts';

/** Longest tool result (JSON text) handed back to the model. */
export const MAX_TOOL_RESULT_CHARS = 16_000;
/** Longest stored final answer. */
const MAX_ANSWER = 20_000;

/** Why the planner's model call was aborted: the task's time bound was reached. */
class TimeBoundReached extends Error {}

/**
 * One turn of the LLM planner, in the runner's transaction with the task row locked, when the task
 * has no unfinished step: the stored conversation gets the results of the steps it has not seen,
 * the model is asked (the registry's tools offered), and its answer is stored in the same
 * transaction as what follows from it — new PENDING steps for its tool calls (run by the step
 * runner like any step: policy, approval, audit, idempotency, kill switch), error results for
 * malformed calls, or the final answer that completes the task. A runner that crashes mid-turn
 * rolls it all back: the turn is asked again and no step is planned twice. Each bound (steps,
 * tokens, time) fails the task naming its setting.
 */
export async function planNext(
  ctx: ConsumerContext,
  task: Task,
  steps: readonly TaskStep[],
  owner: ToolPrincipal,
  deps: RunnerDependencies,
): Promise<void> {
  const { em } = ctx;
  const fail = (reason: string) => {
    task.plannerError = reason.slice(0, 2000);
    return moveTask(ctx, task, 'FAILED', `planner: ${reason}`, owner);
  };
  const planner = deps.planner;
  if (!planner) {
    await fail('this runner has no language model (LLM_PROVIDER=offline), so it cannot plan the goal');
    return;
  }
  const { bounds } = planner;
  const usedMs = task.plannerElapsedMs + steps.reduce((sum, s) => sum + stepMs(s), 0);
  if (usedMs >= bounds.maxTimeMs) {
    await fail(`the task took ${usedMs} ms, reaching AGENT_PLANNER_MAX_TIME_MS=${bounds.maxTimeMs}`);
    return;
  }
  const conversation = await em.find(TaskMessage, { taskId: task.id }, { orderBy: { seq: 'asc' } });
  const add = (message: ChatMessage, stepId: string | null = null) => {
    const row = TaskMessage.of(task, conversation.length, message, stepId);
    conversation.push(row);
    em.persist(row);
  };
  const offered = modelTools(deps.tools);
  if (conversation.length === 0) {
    const opening = await openingPrompt(em, task.goal ?? task.title, owner, offered.tools);
    task.plannerPromptVersion = opening.use.version;
    for (const m of opening.messages) add(m);
  }
  // What this turn's generation names: the version that opened the conversation (0 for a task
  // opened before prompts were versioned), its variables, and the two messages it made.
  const prompt: PromptUse = {
    name: PROMPT_NAMES.agentPlanner,
    version: task.plannerPromptVersion ?? 0,
    variables: plannerVariables(task.goal ?? task.title, owner, offered.tools),
    messages: 2,
  };
  const fed = new Set(conversation.map((m) => m.stepId).filter(Boolean));
  for (const step of steps) {
    if (step.toolCallId && !fed.has(step.id)) add(toolResult(step.toolCallId, stepResult(step)), step.id);
  }
  if (task.status !== 'RUNNING') await moveTask(ctx, task, 'RUNNING', 'the planner asks the model', owner);
  else await em.flush();

  const watch = watchStep(
    em,
    { ...deps.steps, timeoutMs: bounds.maxTimeMs - usedMs },
    () => new TimeBoundReached(),
  );
  const started = performance.now();
  let answer: ChatResult | undefined;
  let failure: unknown;
  try {
    // Recorded in the turn's transaction: the generation commits with what the turn decided.
    const recording: RecordingContext | undefined = planner.recorder && {
      recorder: planner.recorder,
      scope: scopeOfTransaction(em, task.tenantId),
      caller: {
        tenantId: task.tenantId,
        actor: { kind: 'AGENT', userId: owner.id, userName: owner.name },
        taskId: task.id,
        purpose: 'planner',
        prompt,
      },
    };
    answer = await recordedChat(
      recording,
      planner.model,
      {
        messages: conversation.map((m) => m.message),
        tools: offered.tools,
        toolChoice: 'auto',
        temperature: 0,
      },
      { signal: watch.signal },
    );
  } catch (error) {
    failure = error;
  }
  // Measured before the watcher stops: stopping may wait for its current kill-switch poll.
  task.plannerElapsedMs += Math.round(performance.now() - started);
  await watch.stop();
  task.plannerModelCalls += 1;
  // Every model call is audited, as the agent acting for the owner: what it asked for and what came of it.
  const audited = async (
    outcome: AuditOutcome,
    acting: Promise<Actor>,
    toolCalls: readonly ToolCall[] = [],
  ) => {
    const agent = await acting;
    await recordAudit(em, task.tenantId, {
      actor: { kind: agent.kind, id: agent.id, name: agent.name, onBehalfOf: owner },
      action: 'agent.planner.turn',
      targetType: 'Task',
      targetId: task.id,
      outcome,
      input: {
        turn: task.plannerModelCalls,
        model: answer?.model ?? planner.model.model,
        toolCalls: toolCalls.map((c) => c.name),
        promptTokens: answer?.usage?.promptTokens ?? 0,
        completionTokens: answer?.usage?.completionTokens ?? 0,
      },
    });
  };
  if (!answer) {
    const reason = watch.signal.reason;
    if (reason instanceof KillSwitchAbort) {
      await audited(
        'denied',
        moveTask(ctx, task, 'PAUSED', 'kill switch engaged while the planner asked the model', owner),
      );
    } else if (reason instanceof TimeBoundReached) {
      await audited(
        'failed',
        fail(`the task reached AGENT_PLANNER_MAX_TIME_MS=${bounds.maxTimeMs} while the model was answering`),
      );
    } else {
      await audited(
        'failed',
        fail(
          `the language model failed: ${failure instanceof AppError ? failure.message : 'unexpected error'}`,
        ),
      );
    }
    return;
  }
  task.plannerPromptTokens += answer.usage?.promptTokens ?? 0;
  task.plannerCompletionTokens += answer.usage?.completionTokens ?? 0;
  const tokens = task.plannerPromptTokens + task.plannerCompletionTokens;
  if (tokens > bounds.maxTokens) {
    await audited(
      'failed',
      fail(`the model used ${tokens} tokens, more than AGENT_PLANNER_MAX_TOKENS=${bounds.maxTokens}`),
      answer.toolCalls,
    );
    return;
  }
  if (answer.toolCalls.length === 0) {
    const text = answer.text.trim();
    if (!text) {
      await audited('failed', fail('the model answered with neither text nor a tool call'));
      return;
    }
    add({ role: 'assistant', content: text });
    task.answer = text.slice(0, MAX_ANSWER);
    await audited(
      'success',
      moveTask(ctx, task, 'COMPLETED', `the planner answered after ${steps.length} steps`, owner),
    );
    return;
  }
  const proposed = task.plannerToolCalls + answer.toolCalls.length;
  if (proposed > bounds.maxSteps) {
    await audited(
      'failed',
      fail(`the model proposed ${proposed} tool calls, more than AGENT_PLANNER_MAX_STEPS=${bounds.maxSteps}`),
      answer.toolCalls,
    );
    return;
  }
  // Ids as the model gave them, made unique and non-empty: each tool result must name its call.
  const proposedCalls = answer.toolCalls;
  const calls: ToolCall[] = proposedCalls.map((c, i) => ({
    ...c,
    id:
      c.id && proposedCalls.findIndex((o) => o.id === c.id) === i
        ? c.id
        : `call_${task.plannerToolCalls + i}`,
  }));
  task.plannerToolCalls = proposed;
  add({ role: 'assistant', content: answer.text || null, toolCalls: calls });
  const planned: TaskStep[] = [];
  for (const call of calls) {
    const checked = checkCall(deps, offered.toolNamed, call);
    if ('error' in checked) add(toolResult(call.id, { error: checked.error }));
    else {
      planned.push(
        TaskStep.plan(
          task,
          steps.length + planned.length,
          checked.tool,
          checked.input,
          deps.steps.maxAttempts,
          call.id,
        ),
      );
    }
  }
  em.persist(planned);
  await em.flush();
  await audited('success', announceNext(ctx, task, owner), calls);
}

/** The registered tool and valid input a model's call names, or the error the model is told. */
function checkCall(
  deps: RunnerDependencies,
  toolNamed: (modelName: string) => string | undefined,
  call: ToolCall,
): { tool: string; input: Record<string, unknown> } | { error: string } {
  const tool = toolNamed(call.name);
  if (!tool) return { error: `unknown tool "${call.name}"; call one of the tools offered` };
  const args = parseToolArguments(call);
  if (args === undefined || typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { error: `the arguments of ${call.name} must be a JSON object` };
  }
  try {
    return { tool, input: deps.tools.check(tool, args, 'arguments').input };
  } catch (error) {
    if (error instanceof AppError) return { error: error.message };
    throw error;
  }
}

/** What the model is told about a finished step. */
function stepResult(step: TaskStep): Record<string, unknown> {
  return step.status === 'SUCCEEDED'
    ? { status: step.status, output: step.output ?? {} }
    : { status: step.status, error: step.error };
}

function toolResult(toolCallId: string, result: Record<string, unknown>): ChatMessage {
  const text = JSON.stringify(result);
  return {
    role: 'tool',
    toolCallId,
    content:
      text.length > MAX_TOOL_RESULT_CHARS
        ? `${text.slice(0, MAX_TOOL_RESULT_CHARS)}… (cut at ${MAX_TOOL_RESULT_CHARS} characters)`
        : text,
  };
}

/** How long a step's (last) call took. */
function stepMs(step: TaskStep): number {
  return step.startedAt && step.finishedAt
    ? Math.max(0, step.finishedAt.getTime() - step.startedAt.getTime())
    : 0;
}
