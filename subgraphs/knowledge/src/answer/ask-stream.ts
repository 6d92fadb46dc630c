import type { TenantScope } from '#kernel/db/tenant-context.ts';
import type { GenerationCaller } from '#llm/generations/record.ts';
import type { SearchFilter } from '../search/filter.ts';
import type { AnswerView, AskService } from './ask.service.ts';

/** A piece of the answer's text as it is written. */
export interface AnswerPieceEvent {
  readonly __typename: 'AnswerPiece';
  readonly text: string;
}

/** What `askStream` delivers: pieces, then the whole answer (its citations checked), last. */
export type AskStreamEvent = AnswerPieceEvent | (AnswerView & { readonly __typename: 'Answer' });

/**
 * `ask`, streamed: the answerer's pieces as it writes them, then the answer `ask` returns. Ending
 * the stream early (`return()`) or aborting `signal` (the caller went away) aborts the answer, and
 * with it the model's request; an answer that fails ends the stream with its error.
 */
export async function* askStream(
  ask: AskService,
  scope: TenantScope,
  question: string,
  filter: SearchFilter,
  signal?: AbortSignal,
  caller?: GenerationCaller,
): AsyncGenerator<AskStreamEvent> {
  const controller = new AbortController();
  const abort = () => controller.abort(signal?.reason);
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort, { once: true });
  const pieces: string[] = [];
  let wake: (() => void) | undefined;
  let settled = false;
  const answer = ask
    .ask(scope, question, filter, {
      signal: controller.signal,
      ...(caller ? { caller } : {}),
      onToken: (text) => {
        pieces.push(text);
        wake?.();
      },
    })
    .finally(() => {
      settled = true;
      wake?.();
    });
  // Observed below; without this an answer failing while a piece is being sent would be unhandled.
  answer.catch(() => {});
  try {
    for (;;) {
      while (pieces.length > 0) yield { __typename: 'AnswerPiece', text: pieces.shift() as string };
      if (settled) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    yield { __typename: 'Answer', ...(await answer) };
  } finally {
    signal?.removeEventListener('abort', abort);
    if (!settled) controller.abort(new Error('the answer stream was closed'));
  }
}
