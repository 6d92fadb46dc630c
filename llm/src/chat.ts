// The chat-completions conversation as our code sees it (camelCase, no wire details).

/** One message of a conversation. */
export type ChatMessage =
  | { readonly role: 'system' | 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string | null; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string };

/** A function the model may call: its name, what it does, and a JSON schema of its arguments. */
export interface ToolDefinition {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** A call of a tool the model asked for. `arguments` is the model's JSON text, as sent. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** What to ask the model. */
export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolDefinition[];
  /** `auto` (default with tools), `none`, `required`, or one tool by name. */
  readonly toolChoice?: 'auto' | 'none' | 'required' | { readonly name: string };
  readonly temperature?: number;
  /** Most tokens the answer may have (`max_tokens`). */
  readonly maxTokens?: number;
}

/** How to ask. */
export interface ChatOptions {
  /** Aborts the call, also in the middle of a streamed answer and between retries. */
  readonly signal?: AbortSignal;
  /** Streams the answer (SSE) and calls this with each piece of text as it arrives. */
  readonly onToken?: (text: string) => void;
  /** Stream even without `onToken` (default: stream exactly when `onToken` is given). */
  readonly stream?: boolean;
}

/** Tokens counted by the API. */
export interface ChatUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/** The model's answer. */
export interface ChatResult {
  readonly text: string;
  readonly toolCalls: readonly ToolCall[];
  /** `stop`, `length` (cut at maxTokens), `tool_calls`, `content_filter`, … as the API said; null if it did not. */
  readonly finishReason: string | null;
  /** Usage as the API reported it; undefined when it reported none. */
  readonly usage: ChatUsage | undefined;
  /** The model that answered (the API's `model`, else the configured one). */
  readonly model: string;
  /** Requests sent, retries included. */
  readonly attempts: number;
}

/** What the answerer and the planner depend on: a model that answers chat requests (`ChatClient`). */
export interface ChatModel {
  /** The configured model or deployment, e.g. `openai:gpt-4o-mini`, `azure:gpt4o-prod`. */
  readonly model: string;
  chat(request: ChatRequest, options?: ChatOptions): Promise<ChatResult>;
}

/** A tool call's arguments parsed from JSON; `undefined` when the model wrote something that is not JSON. */
export function parseToolArguments(call: ToolCall): unknown {
  try {
    return JSON.parse(call.arguments === '' ? '{}' : call.arguments);
  } catch {
    return undefined;
  }
}
