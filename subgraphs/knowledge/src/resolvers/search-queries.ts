import type { RequestContext } from '#kernel/graphql/context.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { parseFirst, parseQueryText } from '../search/bounds.ts';
import { parseFilter, type SearchFilterInput } from '../search/filter.ts';
import type { SearchMode, SearchService } from '../search/search.service.ts';

/** What the retrieval fields need. */
export interface SearchQueryDeps {
  readonly search: SearchService;
}

/** The `search` field. */
export function createSearchQueries(deps: SearchQueryDeps): Pick<QueryResolvers, 'search'> {
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
      return deps.search.search(ctx.db, request);
    },
  };
}
