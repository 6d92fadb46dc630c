import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { MutationResolvers } from '../__generated__/resolvers-types.ts';
import type { KnowledgeConfig } from '../config.ts';
import { deleteDocument } from '../domain/delete.service.ts';
import { type IngestInput, submitDocument } from '../domain/ingest.service.ts';

/** Mutation fields of the knowledge subgraph, for the given configuration. */
export function createMutation(config: Pick<KnowledgeConfig, 'maxDocumentBytes'>): MutationResolvers {
  return {
    async ingestDocument(_: unknown, args: { input: IngestInput }, ctx: RequestContext) {
      const { document } = await ctx.db.run((em) =>
        submitDocument(em, ctx.identity, args.input, config.maxDocumentBytes),
      );
      return document;
    },

    deleteDocument(_: unknown, args: { id: string }, ctx: RequestContext) {
      const id = parseId(args.id);
      return ctx.db.run((em) => deleteDocument(em, id));
    },
  };
}
