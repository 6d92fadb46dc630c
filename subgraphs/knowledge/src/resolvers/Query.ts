import { ValidationError } from '#kernel/errors.ts';
import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { Document } from '../domain/document.entity.ts';

/** Query fields of the knowledge subgraph. */
export const Query: QueryResolvers = {
  async documents(_: unknown, args: PageArgs, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => em.getRepository(Document).page(page));
    return toConnection(rows, page, (doc) => ({ at: doc.createdAt, id: doc.id }));
  },

  document(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run((em) => em.findOne(Document, { id }));
  },

  documentByContent(_: unknown, args: { sha256: string }, ctx: RequestContext) {
    const sha256 = args.sha256.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256)) {
      throw new ValidationError('sha256 must be 64 hexadecimal digits', { field: 'sha256' });
    }
    return ctx.db.run((em) => em.getRepository(Document).byContent(sha256));
  },
};
