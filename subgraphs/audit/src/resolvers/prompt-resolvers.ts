// prompts and setPrompt (ADR 0038): thin resolvers over the shared prompt store (llm/src/prompts/),
// in the caller's tenant transaction. setPrompt is audited by the field guard like every mutation.
import type { RequestContext } from '#kernel/graphql/context.ts';
import {
  createPromptVersion,
  type ListedPromptVersion,
  listPrompts,
  type NewPromptVersion,
  type PromptVersion,
} from '#llm/prompts/prompt-store.ts';

/** A prompt version as `Prompt` shows it. */
const toPrompt = (version: PromptVersion, current: boolean) => ({
  // Not in the SDL: the audit record's target id (`knowledge.answer@3`).
  id: `${version.name}@${version.version}`,
  name: version.name,
  version: version.version,
  system: version.system,
  user: version.user,
  comment: version.comment,
  createdBy: version.createdBy,
  at: version.createdAt,
  builtIn: version.builtIn,
  current,
});

/** Query fields of versioned prompts. */
export const promptQueryResolvers = {
  async prompts(_: unknown, args: { name?: string | null }, ctx: RequestContext) {
    const versions = await ctx.db.run((em) => listPrompts(em, args.name));
    return versions.map((v: ListedPromptVersion) => toPrompt(v, v.current));
  },
};

/** Mutation fields of versioned prompts. */
export const promptMutationResolvers = {
  async setPrompt(_: unknown, args: { input: NewPromptVersion }, ctx: RequestContext) {
    const stored = await ctx.db.run((em) =>
      createPromptVersion(em, ctx.db.tenantId, args.input, ctx.identity.displayName),
    );
    return toPrompt(stored, true);
  },
};
