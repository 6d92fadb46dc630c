// The chat-completions wire format: our request as JSON, and the API's answers (whole or streamed
// chunk by chunk) back into a ChatResult. Unknown fields are ignored; missing essentials are `malformed`.
import { z } from 'zod';
import type { ChatMessage, ChatRequest, ChatResult, ChatUsage, ToolCall } from './chat.ts';

/** The JSON body of a chat-completions request. */
export function requestBody(request: ChatRequest, model: string | undefined, stream: boolean) {
  const { tools, toolChoice } = request;
  return {
    ...(model ? { model } : {}),
    messages: request.messages.map(wireMessage),
    ...(tools?.length
      ? {
          tools: tools.map((t) => ({
            type: 'function',
            function: { name: t.name, description: t.description, parameters: t.parameters },
          })),
        }
      : {}),
    ...(toolChoice
      ? {
          tool_choice:
            typeof toolChoice === 'string'
              ? toolChoice
              : { type: 'function', function: { name: toolChoice.name } },
        }
      : {}),
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  };
}

function wireMessage(message: ChatMessage) {
  switch (message.role) {
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content,
        ...(message.toolCalls?.length
          ? {
              tool_calls: message.toolCalls.map((c) => ({
                id: c.id,
                type: 'function',
                function: { name: c.name, arguments: c.arguments },
              })),
            }
          : {}),
      };
    default:
      return { role: message.role, content: message.content };
  }
}

const Usage = z
  .object({
    prompt_tokens: z.number().int().nonnegative(),
    completion_tokens: z.number().int().nonnegative(),
    total_tokens: z.number().int().nonnegative().optional(),
  })
  .nullish();

const WholeAnswer = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string(),
                function: z.object({ name: z.string(), arguments: z.string().default('') }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: Usage,
});

const Chunk = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        index: z.number().int().default(0),
        delta: z
          .object({
            content: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().int().nonnegative(),
                  id: z.string().nullish(),
                  function: z
                    .object({ name: z.string().nullish(), arguments: z.string().nullish() })
                    .nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: Usage,
  error: z.object({ message: z.string().optional() }).passthrough().nullish(),
});

/** Why an answer could not be read: the caller turns it into a `malformed` LlmError. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** An error object the API sent inside a stream (`data: {"error": …}`). */
export class StreamedApiError extends Error {
  override readonly name = 'StreamedApiError';
}

const usageOf = (u: z.output<typeof Usage>): ChatUsage | undefined =>
  u
    ? {
        promptTokens: u.prompt_tokens,
        completionTokens: u.completion_tokens,
        totalTokens: u.total_tokens ?? u.prompt_tokens + u.completion_tokens,
      }
    : undefined;

const problem = (error: z.ZodError) =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
    .join('; ');

/** A non-streamed answer (`choices[0]`). */
export function parseWholeAnswer(text: string, model: string): Omit<ChatResult, 'attempts'> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WireError(`the answer is not JSON (it begins "${text.slice(0, 40)}")`);
  }
  const parsed = WholeAnswer.safeParse(json);
  if (!parsed.success) throw new WireError(`the answer is not a chat completion (${problem(parsed.error)})`);
  const [choice] = parsed.data.choices;
  return {
    text: choice!.message.content ?? '',
    toolCalls: (choice!.message.tool_calls ?? []).map((c) => ({
      id: c.id,
      name: c.function.name,
      arguments: c.function.arguments,
    })),
    finishReason: choice!.finish_reason ?? null,
    usage: usageOf(parsed.data.usage),
    model: parsed.data.model || model,
  };
}

/** Folds streamed chunks into one answer; text deltas are handed out as they come. */
export class StreamAccumulator {
  #text = '';
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>();
  #finishReason: string | null = null;
  #usage: ChatUsage | undefined;
  #model: string;
  /** `[DONE]` was received. */
  done = false;

  constructor(model: string) {
    this.#model = model;
  }

  /** Takes one event's data; returns the text it adds (empty when none). */
  add(data: string): string {
    if (data.trim() === '[DONE]') {
      this.done = true;
      return '';
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw new WireError(`a streamed chunk is not JSON (it begins "${data.slice(0, 40)}")`);
    }
    const parsed = Chunk.safeParse(json);
    if (!parsed.success)
      throw new WireError(`a streamed chunk is not a chat completion chunk (${problem(parsed.error)})`);
    const chunk = parsed.data;
    if (chunk.error) throw new StreamedApiError(chunk.error.message ?? 'unknown error');
    if (chunk.model) this.#model = chunk.model;
    this.#usage = usageOf(chunk.usage) ?? this.#usage;
    let added = '';
    // Only the first choice is asked for (n = 1); other indices would be other answers.
    for (const choice of chunk.choices.filter((c) => c.index === 0)) {
      if (choice.delta?.content) added += choice.delta.content;
      for (const delta of choice.delta?.tool_calls ?? []) {
        const call = this.#calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.name += delta.function.name;
        if (delta.function?.arguments) call.arguments += delta.function.arguments;
        this.#calls.set(delta.index, call);
      }
      if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    }
    this.#text += added;
    return added;
  }

  /** Whether the stream reached its end (`[DONE]`, or a finish reason before the body closed). */
  get complete(): boolean {
    return this.done || this.#finishReason !== null;
  }

  result(): Omit<ChatResult, 'attempts'> {
    const toolCalls: ToolCall[] = [...this.#calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({ id: c.id, name: c.name, arguments: c.arguments }));
    for (const call of toolCalls) {
      if (!call.id || !call.name) throw new WireError('a streamed tool call has no id or no name');
    }
    return {
      text: this.#text,
      toolCalls,
      finishReason: this.#finishReason,
      usage: this.#usage,
      model: this.#model,
    };
  }
}
