// A chat call as a recorded generation: budget checked, input and output stored redacted, usage,
// cost, latency and time to first token recorded (ADR 0037).
import type { ChatModel, ChatOptions, ChatRequest, ChatResult } from '../chat.ts';
import { estimateTokens } from './budget-guard.ts';
import type { GenerationRecorder, GenerationScope } from './generation-recorder.ts';
import type { GenerationCaller } from './record.ts';

/** Where and for whom a call is recorded. */
export interface RecordingContext {
  readonly recorder: GenerationRecorder;
  readonly scope: GenerationScope;
  readonly caller: GenerationCaller;
}

const PROVIDERS: Record<string, string> = { openai: 'openai', azure: 'azure.ai.openai' };

/** `gen_ai.provider.name` and model of a chat model's label (`openai:gpt-4o-mini` → openai, gpt-4o-mini). */
export function providerAndModel(label: string): { provider: string; model: string } {
  const match = /^(openai|azure):(.+)$/.exec(label);
  if (!match) return { provider: 'openai', model: label };
  return { provider: PROVIDERS[match[1]!] ?? match[1]!, model: match[2]! };
}

/** The text of a request's messages, for the estimate checked against the budgets. */
export function requestText(request: ChatRequest): string {
  return request.messages
    .map((m) => (m.role === 'assistant' ? (m.content ?? '') + JSON.stringify(m.toolCalls ?? []) : m.content))
    .join('\n');
}

/** `chat.chat(request, options)`, recorded in `recording` (or plainly when there is none). */
export function recordedChat(
  recording: RecordingContext | undefined,
  chat: ChatModel,
  request: ChatRequest,
  options: ChatOptions = {},
): Promise<ChatResult> {
  if (!recording) return chat.chat(request, options);
  const { provider, model } = providerAndModel(chat.model);
  return recording.recorder.observe(
    recording.scope,
    {
      caller: recording.caller,
      operation: 'chat',
      provider,
      model,
      input: {
        messages: request.messages,
        ...(request.tools ? { tools: request.tools.map((t) => t.name) } : {}),
      },
      estimatedTokens: estimateTokens(requestText(request)),
    },
    (handle) => {
      const { onToken } = options;
      return chat.chat(
        request,
        onToken
          ? {
              ...options,
              onToken: (text: string) => {
                handle.firstToken();
                onToken(text);
              },
            }
          : options,
      );
    },
    (result) => ({
      responseModel: providerAndModel(result.model).model,
      output:
        result.toolCalls.length > 0
          ? JSON.stringify({ text: result.text, toolCalls: result.toolCalls })
          : result.text,
      inputTokens: result.usage?.promptTokens ?? 0,
      outputTokens: result.usage?.completionTokens ?? 0,
    }),
  );
}
