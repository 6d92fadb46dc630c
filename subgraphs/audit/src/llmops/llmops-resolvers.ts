// The audit subgraph's LLM ops fields (ADR 0037): generations, usage and token budgets. Thin: parse,
// call the queries in the caller's tenant transaction, return. Roles are the SDL's (@requiresRole);
// setTokenBudget is audited by the kernel's mutation guard like every mutation.
import { UnavailableError, ValidationError } from '#kernel/errors.ts';
import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import {
  findGeneration,
  type GenerationFilter,
  generationKey,
  listGenerations,
  parseGenerationId,
} from './generation-queries.ts';
import { listBudgets, setBudget, type UsageDimension, usageReport } from './usage-queries.ts';

/** Query fields: generations, generation, usage, tokenBudgets. */
export const llmopsQueries = {
  async generations(_: unknown, args: PageArgs & { filter?: GenerationFilter | null }, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const filter = args.filter ?? {};
    if (filter.from && filter.to && filter.from.getTime() >= filter.to.getTime()) {
      throw new ValidationError(
        `from (${filter.from.toISOString()}) must be before to (${filter.to.toISOString()})`,
        { argument: 'filter.from' },
      );
    }
    const rows = await ctx.db.run((em) => listGenerations(em, filter, page));
    return toConnection(rows, page, generationKey);
  },
  generation(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseGenerationId(args.id);
    return ctx.db.run((em) => findGeneration(em, id));
  },
  usage(_: unknown, args: { from: Date; to: Date; groupBy: UsageDimension[] }, ctx: RequestContext) {
    return ctx.db.run((em) => usageReport(em, args.from, args.to, args.groupBy));
  },
  tokenBudgets(_: unknown, _args: unknown, ctx: RequestContext) {
    return ctx.db.run((em) => listBudgets(em, ctx.db.tenantId));
  },
};

/**
 * Mutation fields: setTokenBudget. `recording` false (LLM_GENERATIONS=off): budgets would not be
 * enforced, so setting one is refused rather than silently ignored.
 */
export const llmopsMutations = (recording = true) => ({
  setTokenBudget(
    _: unknown,
    args: { input: { userId?: string | null; monthlyTokens?: number | null } },
    ctx: RequestContext,
  ) {
    if (!recording)
      throw new UnavailableError(
        'Token budgets are not enforced while model calls are not recorded (LLM_GENERATIONS=off); an administrator must set LLM_GENERATIONS=on first',
      );
    const { userId = null, monthlyTokens = null } = args.input;
    return ctx.db.run((em) =>
      setBudget(em, ctx.db.tenantId, userId, monthlyTokens, ctx.identity.displayName),
    );
  },
});
