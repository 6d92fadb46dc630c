import type { RequestContext } from '#kernel/graphql/context.ts';
import type { TraceResolvers } from '../__generated__/resolvers-types.ts';
import { findTrace, flattenTree, type SpanNode, type TraceSummary } from '../observability/trace-store.ts';

/** Field resolvers of `Trace`: a listed trace loads its span tree only when asked for it. */
export const Trace: TraceResolvers = {
  roots: (trace: TraceSummary, _: unknown, ctx: RequestContext) => rootsOf(trace, ctx),
  spans: async (trace: TraceSummary, _: unknown, ctx: RequestContext) =>
    flattenTree(await rootsOf(trace, ctx)),
};

/** The trace's span tree, loaded once per trace object. */
async function rootsOf(trace: TraceSummary, ctx: RequestContext): Promise<SpanNode[]> {
  trace.roots ??= (await ctx.db.run((em) => findTrace(em, trace.id)))?.roots ?? [];
  return trace.roots;
}
