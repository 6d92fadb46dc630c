import { NotFoundError } from '#kernel/errors.ts';
import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import type { EvalRunResolvers } from '../__generated__/resolvers-types.ts';
import { compareRuns } from '../observability/eval-compare.ts';
import {
  type EvalResultView,
  type EvalRunView,
  evalResults,
  evalRunKey,
  findEvalRun,
  listEvalRuns,
  parseEvalRunId,
} from '../observability/eval-run-store.ts';

/** Query fields over the stored evaluation runs (ADR 0039); roles are checked by the SDL. */
export const evalRunQueryResolvers = {
  async evalRuns(_: unknown, args: PageArgs, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => listEvalRuns(em, page));
    return toConnection(rows, page, evalRunKey);
  },
  evalRun(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseEvalRunId(args.id);
    return ctx.db.run((em) => findEvalRun(em, id));
  },
  compareEvalRuns(_: unknown, args: { base: string; other: string }, ctx: RequestContext) {
    const baseId = parseEvalRunId(args.base, 'base');
    const otherId = parseEvalRunId(args.other, 'other');
    return ctx.db.run(async (em) => {
      const [base, other] = [await findEvalRun(em, baseId), await findEvalRun(em, otherId)];
      for (const [argument, id, run] of [
        ['base', baseId, base],
        ['other', otherId, other],
      ] as const) {
        if (!run) {
          throw new NotFoundError(
            `${argument}: no evaluation run ${id} in your tenant (evalRuns lists them)`,
          );
        }
      }
      base!.loaded = await evalResults(em, baseId);
      other!.loaded = await evalResults(em, otherId);
      return compareRuns(base!, base!.loaded, other!, other!.loaded);
    });
  },
};

/** Field resolvers of `EvalRun`: its results load only when asked for. */
export const EvalRun: EvalRunResolvers = {
  __resolveReference: (ref: { id: string }, ctx: RequestContext) =>
    ctx.db.run((em) => findEvalRun(em, parseEvalRunId(ref.id))),
  results: (run: EvalRunView, _: unknown, ctx: RequestContext) => resultsOf(run, ctx),
};

async function resultsOf(run: EvalRunView, ctx: RequestContext): Promise<EvalResultView[]> {
  run.loaded ??= await ctx.db.run((em) => evalResults(em, run.id));
  return run.loaded;
}
