import type { RequestContext } from '#kernel/graphql/context.ts';
import { callerOfIdentity } from '#llm/generations/record.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import type { AskService } from '../answer/ask.service.ts';
import { parseFirst, parseQueryText } from '../search/bounds.ts';
import { parseFilter, type SearchFilterInput } from '../search/filter.ts';
import type { SearchMode, SearchService } from '../search/search.service.ts';

/** What the retrieval fields need. */
export interface SearchQueryDeps {
  readonly search: SearchService;
  readonly ask: AskService;
}

/** The `search` and `ask` fields. */
export function createSearchQueries(deps: SearchQueryDeps): Pick<QueryResolvers, 'search' | 'ask'> {
  return {
    search(
      _: unknown,
      args: {
        query: string;
        first?: number | null;
        filter?: SearchFilterInput | null;
        mode?: SearchMode | null;
      },
      ctx: RequestContext,
    ) {
      const request = {
        query: parseQueryText(args.query, 'query'),
        first: parseFirst(args.first),
        filter: parseFilter(args.filter),
        mode: args.mode ?? 'HYBRID',
      };
      return deps.search.search(ctx.db, request, undefined, callerOfIdentity(ctx.identity, 'search'));
    },

    ask(_: unknown, args: { question: string; filter?: SearchFilterInput | null }, ctx: RequestContext) {
      const question = parseQueryText(args.question, 'question');
      // Its model calls are generations of the verified caller (ADR 0037).
      return deps.ask.ask(ctx.db, question, parseFilter(args.filter), {
        caller: callerOfIdentity(ctx.identity, 'answer'),
      });
    },
  };
}
