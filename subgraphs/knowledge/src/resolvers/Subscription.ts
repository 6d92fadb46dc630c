import type { RequestContext } from '#kernel/graphql/context.ts';
import type { StreamContext } from '#kernel/graphql/subscription-route.ts';
import { callerOfIdentity } from '#llm/generations/record.ts';
import type { AskService } from '../answer/ask.service.ts';
import { type AskStreamEvent, askStream } from '../answer/ask-stream.ts';
import { parseQueryText } from '../search/bounds.ts';
import { parseFilter, type SearchFilterInput } from '../search/filter.ts';

/** The knowledge subgraph's Subscription fields (served over SSE, relayed by the gateway; ADR 0031). */
export function createSubscription(deps: { readonly ask: AskService }) {
  return {
    askStream: {
      subscribe(
        _: unknown,
        args: { question: string; filter?: SearchFilterInput | null },
        ctx: RequestContext,
      ): AsyncGenerator<AskStreamEvent> {
        // Served by the kernel's stream route, whose context carries the caller's end (signal).
        // Bad input is refused here, before the stream opens: a GraphQL error, not a broken stream.
        const question = parseQueryText(args.question, 'question');
        return askStream(
          deps.ask,
          ctx.db,
          question,
          parseFilter(args.filter),
          (ctx as StreamContext).signal,
          callerOfIdentity(ctx.identity, 'answer'),
        );
      },
      resolve: (event: AskStreamEvent) => event,
    },
  };
}

/** `AskStreamEvent` members by the event's `__typename`. */
export const AskStreamEventType = {
  __resolveType: (event: AskStreamEvent) => event.__typename,
};
