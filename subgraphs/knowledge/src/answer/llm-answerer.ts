import { ConfigError } from '#kernel/errors.ts';
import type { ChatModel } from '#llm/chat.ts';
import type { LlmConfig } from '#llm/config.ts';
import { type CreateChatClientOptions, createChatClient } from '#llm/create-chat-client.ts';
import { recordedChat } from '#llm/generations/recorded-chat.ts';
import { NOT_ANSWERED, PROMPT_NAMES } from '#llm/prompts/built-in.ts';
import { builtInVersion, PromptStore, type RenderedPrompt, renderPrompt } from '#llm/prompts/prompt-store.ts';
import type { AnswerDraft, Answerer, AnswerOptions, AnswerSource } from './answerer.ts';
import { CitationFilter, citationsOf, filterCitations } from './citations.ts';

/** What the answer says when the sources do not answer the question (the prompt asks for exactly this). */
export { NOT_ANSWERED };
/** Most tokens an answer may have unless told otherwise. */
export const DEFAULT_ANSWER_MAX_TOKENS = 1024;

/** Options of {@link LlmAnswerer}. */
export interface LlmAnswererOptions {
  /** Most tokens of the answer. */
  maxTokens?: number;
  /** Sampling temperature; 0 keeps answers close to the sources. */
  temperature?: number;
  /** Where the tenant's current `knowledge.answer` prompt is read (default: observability.prompts, no cache). */
  prompts?: PromptStore;
}

/** The numbered sources as the prompt's `sources` variable: `[n] title › heading › page`, then the text. */
export function sourcesText(sources: readonly AnswerSource[]): string {
  return sources
    .map((s) => {
      const where = [s.title, s.headingPath, s.page ? `page ${s.page}` : ''].filter(Boolean).join(' › ');
      return `[${s.n}] ${where}\n${s.text.trim()}`;
    })
    .join('\n\n');
}

/** The variables of the `knowledge.answer` prompt for a question and its sources. */
export function answerVariables(question: string, sources: readonly AnswerSource[]): Record<string, string> {
  return { question: question.trim(), sources: sourcesText(sources) };
}

/** The built-in (version 0) prompt's user message: the numbered sources, then the question. */
export function groundedPrompt(question: string, sources: readonly AnswerSource[]): string {
  const { messages } = renderPrompt(
    builtInVersion(PROMPT_NAMES.knowledgeAnswer),
    answerVariables(question, sources),
  );
  return messages[1]!.content as string;
}

/**
 * Answers with a chat model (OpenAI-compatible or Azure OpenAI) from a grounded prompt with
 * numbered sources, rendered from the asking tenant's current `knowledge.answer` prompt (the
 * built-in version 0 when it stored none, or when no tenant scope is given). Tokens stream to `onToken` with markers to nonexistent sources already taken
 * out; the citations are parsed back from the `[n]` markers left, each quoting the sentence of its
 * source that best supports the cited sentence. An answer that cites no given source is not
 * grounded: it becomes {@link NOT_ANSWERED} (`unanswered`).
 */
export class LlmAnswerer implements Answerer {
  readonly model: string;
  readonly #chat: ChatModel;
  readonly #maxTokens: number;
  readonly #temperature: number;
  readonly #prompts: PromptStore;

  constructor(chat: ChatModel, options: LlmAnswererOptions = {}) {
    this.#prompts = options.prompts ?? new PromptStore();
    this.#chat = chat;
    this.model = chat.model;
    this.#maxTokens = options.maxTokens ?? DEFAULT_ANSWER_MAX_TOKENS;
    this.#temperature = options.temperature ?? 0;
  }

  async answer(
    question: string,
    sources: readonly AnswerSource[],
    options: AnswerOptions = {},
  ): Promise<AnswerDraft> {
    if (sources.length === 0) {
      // Nothing was retrieved: no model call can be grounded.
      options.onToken?.(NOT_ANSWERED);
      return { ...unanswered(this.model), usage: { promptTokens: 0, completionTokens: 0 } };
    }
    const given = new Set(sources.map((s) => s.n));
    const valid = (n: number) => given.has(n);
    const stream = options.onToken ? new CitationFilter(valid) : undefined;
    const prompt = await this.prompt(question, sources, options);
    // The generation names the prompt version it was rendered from, with its variables (ADR 0038).
    const recording = options.recording && {
      ...options.recording,
      caller: { ...options.recording.caller, prompt: prompt.use },
    };
    const result = await recordedChat(
      recording,
      this.#chat,
      {
        messages: prompt.messages,
        temperature: this.#temperature,
        maxTokens: this.#maxTokens,
      },
      {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(stream
          ? {
              onToken: (piece: string) => {
                const text = stream.push(piece);
                if (text) options.onToken!(text);
              },
            }
          : {}),
      },
    );
    const rest = stream?.flush();
    if (rest) options.onToken!(rest);
    const usage = {
      promptTokens: result.usage?.promptTokens ?? 0,
      completionTokens: result.usage?.completionTokens ?? 0,
    };
    const { text, dropped } = filterCitations(result.text, valid);
    const citations = citationsOf(text, sources);
    if (citations.length === 0) {
      return { ...unanswered(result.model), droppedCitations: dropped, usage };
    }
    return {
      text: text.trim(),
      citations,
      droppedCitations: dropped,
      unanswered: false,
      model: result.model,
      usage,
    };
  }

  /** The opening messages for `question`: the tenant's current prompt version, rendered. */
  prompt(
    question: string,
    sources: readonly AnswerSource[],
    options: AnswerOptions = {},
  ): Promise<RenderedPrompt> {
    const variables = answerVariables(question, sources);
    if (!options.scope) {
      return Promise.resolve(renderPrompt(builtInVersion(PROMPT_NAMES.knowledgeAnswer), variables));
    }
    return this.#prompts.render(options.scope, PROMPT_NAMES.knowledgeAnswer, variables);
  }
}

function unanswered(model: string) {
  return { text: NOT_ANSWERED, citations: [], droppedCitations: 0, unanswered: true, model };
}

/**
 * The chat answerer of an `openai` or `azure` LLM configuration (`LLM_PROVIDER`); `offline` has
 * none (the offline extractive answerer answers then).
 */
export function createLlmAnswerer(
  config: LlmConfig,
  options: CreateChatClientOptions & LlmAnswererOptions = {},
): LlmAnswerer {
  const chat = createChatClient(config, options);
  if (!chat)
    throw new ConfigError(['LLM_PROVIDER must be openai or azure for the chat answerer (it is offline)']);
  return new LlmAnswerer(chat, options);
}
