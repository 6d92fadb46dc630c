// replayGeneration (ADR 0038): a recorded chat call asked again, with another prompt version or
// model, as a new generation of the Admin who asked, linked to the original. Shared code does the
// work (llm/: the prompt store, the chat client, the generation recorder); the audit subgraph only
// reads the tenant's observability tables, as it does for traces.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Identity } from '#kernel/auth/identity.ts';
import type { TenantScope } from '#kernel/db/tenant-context.ts';
import { BudgetExceededError, NotFoundError, UnavailableError, ValidationError } from '#kernel/errors.ts';
import type { ChatMessage } from '#llm/chat.ts';
import type { LlmConfig } from '#llm/config.ts';
import { type CreateChatClientOptions, createChatClient } from '#llm/create-chat-client.ts';
import { estimateTokens } from '#llm/generations/budget-guard.ts';
import type { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import { callerOfIdentity } from '#llm/generations/record.ts';
import { providerAndModel, requestText } from '#llm/generations/recorded-chat.ts';
import { promptVersion, type RenderedPrompt, renderPrompt } from '#llm/prompts/prompt-store.ts';
import { findGeneration, type GenerationView, parseGenerationId } from '../llmops/generation-queries.ts';

/** The `purpose` of a replay's generation. */
export const REPLAY_PURPOSE = 'replay';
/** Longest model (or deployment) name a replay may ask for. */
const MAX_MODEL_CHARS = 200;

/** What replays need: the chat provider's settings and the recorder every model call goes through. */
export interface ReplayDependencies {
  /** LLM_PROVIDER and its settings; offline has no chat model to replay with. */
  readonly llm: LlmConfig;
  readonly recorder: GenerationRecorder;
  /** Azure's Entra sign-in (AUTH_SERVICE_*) or a token source (tests). */
  readonly chat?: CreateChatClientOptions;
}

/** What the caller asked to change. */
export interface ReplayRequest {
  readonly id: string;
  /** The prompt version to render (default: the recorded one). */
  readonly promptVersion?: number | null;
  /** The model (OpenAI) or deployment (Azure) to ask instead of the configured one. */
  readonly model?: string | null;
}

/** A replay beside its original, as `Generation` shows them. */
export interface ReplayResult {
  readonly original: GenerationView;
  readonly replay: GenerationView;
}

/**
 * Asks the configured chat model again what `request.id` asked: the prompt version (given, else the
 * recorded one) rendered with the recorded variables, followed by the recorded messages that did not
 * come from the template; `request.model` overrides the request's model or deployment. The call is
 * budget-checked and recorded like any other (purpose `replay`, `replay_of` the original, the
 * caller as its user). A call the model service refuses is returned as a FAILED replay; only a
 * budget refusal is an error, and nothing is sent or recorded then.
 */
export async function replayGeneration(
  scope: TenantScope,
  identity: Identity,
  deps: ReplayDependencies,
  request: ReplayRequest,
): Promise<ReplayResult> {
  if (deps.llm.provider === 'offline') {
    throw new UnavailableError(
      'Replaying a generation needs a chat model: this service runs with LLM_PROVIDER=offline; set LLM_PROVIDER to openai or azure (with LLM_ENDPOINT, LLM_MODEL or LLM_AZURE_DEPLOYMENT) to replay',
    );
  }
  const id = parseGenerationId(request.id);
  const model = request.model?.trim() || null;
  if (request.model != null && (!model || model.length > MAX_MODEL_CHARS)) {
    throw new ValidationError(
      `model must be a model or deployment name of 1 to ${MAX_MODEL_CHARS} characters`,
      {
        argument: 'model',
      },
    );
  }
  const { original, messages, prompt } = await scope.run(async (em) => {
    const found = await findRecord(em, id);
    if (!found) throw new NotFoundError(`There is no generation ${id} in this tenant`, { id });
    return { original: found, ...(await replayMessages(em, found, request.promptVersion ?? null)) };
  });
  const chat = createChatClient(withModel(deps.llm, model), deps.chat ?? {})!;
  const caller = callerOfIdentity(identity, REPLAY_PURPOSE, {
    replayOf: original.id,
    ...(prompt ? { prompt: prompt.use } : {}),
  });
  const chatRequest = { messages, temperature: 0 };
  const { provider, model: asked } = providerAndModel(chat.model);
  // The recorder directly (not recordedChat), for the id it gives the replay's generation.
  let replayId: string | undefined;
  let failure: unknown;
  try {
    await deps.recorder.observe(
      scope,
      {
        caller,
        operation: 'chat',
        provider,
        model: asked,
        input: { messages },
        estimatedTokens: estimateTokens(requestText(chatRequest)),
      },
      (handle) => {
        replayId = handle.id;
        return chat.chat(chatRequest);
      },
      (result) => ({
        responseModel: providerAndModel(result.model).model,
        output: result.text,
        inputTokens: result.usage?.promptTokens ?? 0,
        outputTokens: result.usage?.completionTokens ?? 0,
      }),
    );
  } catch (error) {
    // Refused before the call (a budget): nothing was sent or recorded, so there is no replay to show.
    if (error instanceof BudgetExceededError || !replayId) throw error;
    failure = error;
  }
  const [before, replay] = await scope.run(
    async (em) => [await findGeneration(em, original.id), await findGeneration(em, replayId!)] as const,
  );
  if (!replay || !before) throw failure ?? new Error(`the replay ${replayId} was not recorded`);
  return { original: before, replay };
}

/** The messages a replay sends, and the prompt they were rendered from (none: the recorded input as it was). */
async function replayMessages(
  em: EntityManager,
  original: ReplaySource,
  version: number | null,
): Promise<{ messages: ChatMessage[]; prompt: RenderedPrompt | null }> {
  const what = `Generation ${original.id}`;
  if (original.operation !== 'chat') {
    throw new ValidationError(
      `${what} is an ${original.operation} call; only chat generations can be replayed`,
      { argument: 'id', operation: original.operation },
    );
  }
  const input = (original.input ?? {}) as { messages?: unknown; tools?: unknown };
  const recorded = Array.isArray(input.messages) ? (input.messages as ChatMessage[]) : [];
  if (Array.isArray(input.tools) && input.tools.length > 0) {
    throw new ValidationError(
      `${what} offered tools to the model (${input.tools.join(', ')}); their definitions are not recorded, so a tool-calling generation cannot be replayed`,
      { argument: 'id' },
    );
  }
  if (!original.promptName || original.promptVersion == null) {
    if (version != null) {
      throw new ValidationError(
        `${what} was not rendered from a prompt template, so promptVersion cannot be given`,
        {
          argument: 'promptVersion',
        },
      );
    }
    if (recorded.length === 0)
      throw new ValidationError(`${what} recorded no messages to replay`, { argument: 'id' });
    return { messages: recorded, prompt: null };
  }
  if (version != null && (!Number.isInteger(version) || version < 0)) {
    throw new ValidationError('promptVersion must be 0 (the built-in version) or a stored version', {
      argument: 'promptVersion',
    });
  }
  const template = await promptVersion(em, original.promptName, version ?? original.promptVersion);
  const prompt = renderPrompt(template, variablesOf(original));
  // Messages after the template's (a planner's later turns) are kept as they were.
  const rest = recorded.slice(original.promptMessages ?? prompt.messages.length);
  return { messages: [...prompt.messages, ...rest], prompt };
}

/** The recorded template variables as text values (as they were rendered). */
function variablesOf(original: ReplaySource): Record<string, string> {
  const raw = original.promptVariables;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return {};
  return Object.fromEntries(
    Object.entries(raw as Record<string, unknown>).map(([k, v]) => [
      k,
      typeof v === 'string' ? v : JSON.stringify(v),
    ]),
  );
}

/** The configuration with the model (OpenAI) or deployment (Azure) replaced. */
function withModel(config: Exclude<LlmConfig, { provider: 'offline' }>, model: string | null): LlmConfig {
  if (!model) return config;
  return config.provider === 'openai' ? { ...config, model } : { ...config, deployment: model, model };
}

/** What a replay reads of the generation it replays. */
interface ReplaySource {
  readonly id: string;
  readonly operation: string;
  readonly promptName: string | null;
  readonly promptVersion: number | null;
  readonly promptVariables: unknown;
  readonly promptMessages: number | null;
  /** The recorded input ({ messages, tools? } for chat). */
  readonly input: unknown;
}

/** The tenant's generation `id` as far as a replay needs it, or null (the list queries' view lacks the variables). */
async function findRecord(em: EntityManager, id: string): Promise<ReplaySource | null> {
  const [row] = await em.execute<
    {
      id: string;
      operation: string;
      prompt_name: string | null;
      prompt_version: number | null;
      prompt_variables: unknown;
      prompt_messages: number | null;
      input: unknown;
    }[]
  >(
    `select id, operation, prompt_name, prompt_version, prompt_variables, prompt_messages, input
       from observability.generations where id = ?`,
    [id],
  );
  if (!row) return null;
  const json = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);
  return {
    id: row.id,
    operation: row.operation,
    promptName: row.prompt_name,
    promptVersion: row.prompt_version,
    promptVariables: json(row.prompt_variables),
    promptMessages: row.prompt_messages,
    input: json(row.input),
  };
}
