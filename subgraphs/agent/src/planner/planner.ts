import type { EntityManager } from '@mikro-orm/postgresql';
import { loadConfig } from '#kernel/config.ts';
import type { ChatModel, ToolDefinition as ModelTool } from '#llm/chat.ts';
import { type CreateChatClientOptions, createChatClient } from '#llm/create-chat-client.ts';
import { createGenerationRecorder, type GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import { PROMPT_NAMES } from '#llm/prompts/built-in.ts';
import { currentPrompt, type RenderedPrompt, renderPrompt } from '#llm/prompts/prompt-store.ts';
import type { AgentConfig, PlannerBounds } from '../config.ts';
import type { ToolPrincipal } from '../tools/tool.ts';

/** What plans a goal-only task: a chat model with tool calling, and the bounds of one task. */
export interface Planner {
  readonly model: ChatModel;
  readonly bounds: PlannerBounds;
  /** Records each model call as a generation of the agent for the task's owner (ADR 0037); absent: not recorded. */
  readonly recorder?: GenerationRecorder;
}

/** The setting a goal-only task needs, named in the refusal when it is missing. */
export const PLANNER_SETTING = 'LLM_PROVIDER';

/**
 * The planner `config.llm` names, or undefined offline (`LLM_PROVIDER=offline`: only caller-given
 * plans run). Azure without LLM_API_KEY signs in with the service's own Entra identity, read from
 * the platform's auth settings when not given (as the knowledge subgraph's answerer does).
 */
export function createPlanner(
  config: AgentConfig,
  options: CreateChatClientOptions = {},
): Planner | undefined {
  const { llm } = config;
  if (llm.provider === 'offline') return undefined;
  const needsIdentity = llm.provider === 'azure' && !llm.apiKey && !options.tokens && !options.auth;
  const model = createChatClient(llm, needsIdentity ? { ...options, auth: loadConfig().auth } : options);
  return model
    ? { model, bounds: config.planner, recorder: createGenerationRecorder(config.generations) }
    : undefined;
}

/** The variables of the `agent.planner` prompt: the goal, the owner's name, the tools offered (one a line). */
export function plannerVariables(
  goal: string,
  owner: ToolPrincipal,
  tools: readonly ModelTool[],
): Record<string, string> {
  return {
    goal,
    owner: owner.name,
    tools: tools.map((t) => `- ${t.name}: ${t.description}`).join('\n'),
  };
}

/**
 * The conversation's opening: the tenant's current `agent.planner` prompt (the built-in version 0
 * when it stored none) rendered with the goal, in the runner's tenant transaction; the version is
 * what the task's generations name on every turn.
 */
export async function openingPrompt(
  em: EntityManager,
  goal: string,
  owner: ToolPrincipal,
  tools: readonly ModelTool[],
): Promise<RenderedPrompt> {
  return renderPrompt(
    await currentPrompt(em, PROMPT_NAMES.agentPlanner),
    plannerVariables(goal, owner, tools),
  );
}
