import type { RequestContext } from '#kernel/graphql/context.ts';
import {
  findGeneration,
  type GenerationView,
  parseGenerationId,
  replaysOf,
} from '../llmops/generation-queries.ts';

/** Field resolvers of `Generation` (ADR 0037): the replay links, loaded when asked for. */
export const Generation = {
  __resolveReference(ref: { id: string }, ctx: RequestContext) {
    const id = parseGenerationId(ref.id);
    return ctx.db.run((em) => findGeneration(em, id));
  },
  replayOf(g: GenerationView, _: unknown, ctx: RequestContext) {
    return g.replayOfId ? ctx.db.run((em) => findGeneration(em, g.replayOfId!)) : null;
  },
  replays(g: GenerationView, _: unknown, ctx: RequestContext) {
    return ctx.db.run((em) => replaysOf(em, g.id));
  },
};
