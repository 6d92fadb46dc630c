// A scripted model for the planner suites, served by the fake chat-completions server: each task's
// goal (the conversation's user message) picks a script, which answers from the conversation so far
// (so a repeated request, after a crash or a kill, gets the same answer).
import type { FakeAnswer, FakeBehaviour, FakeChatRequest } from '#testing/fake-chat-server.ts';
import { reply } from '#testing/fake-chat-server.ts';

/** A message as the wire carries it. */
export interface WireMessage {
  role: string;
  content: string | null;
  tool_call_id?: string;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
}

/** Decides the model's answer from the conversation (wire messages) so far: an answer, no answer, or any behaviour. */
export type Script = (messages: WireMessage[]) => FakeAnswer | 'hang' | FakeBehaviour;

/** The user message (goal) of a request. */
export const goalOf = (request: FakeChatRequest): string =>
  (request.body.messages as WireMessage[]).find((m) => m.role === 'user')?.content ?? '';

/** Tool messages of a conversation, in order. */
export const toolResults = (messages: WireMessage[]) => messages.filter((m) => m.role === 'tool');

/** A behaviour answering every request by the script of its goal. */
export function scripted(scripts: Map<string, Script>): FakeBehaviour {
  return (request, res) => {
    const script = scripts.get(goalOf(request));
    if (!script) return reply.status(400, {}, `no script for goal "${goalOf(request)}"`)(request, res);
    const answer = script(request.body.messages as WireMessage[]);
    if (answer === 'hang') return reply.hang()(request, res);
    if (typeof answer === 'function') return answer(request, res);
    return reply.answer(answer)(request, res);
  };
}

/** A tool call of a scripted answer. */
export const call = (id: string, name: string, args: unknown) => ({
  id,
  name,
  arguments: typeof args === 'string' ? args : JSON.stringify(args),
});
