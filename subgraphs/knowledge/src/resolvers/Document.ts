import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { DocumentResolvers } from '../__generated__/resolvers-types.ts';
import { Document as DocumentEntity } from '../domain/document.entity.ts';

/** Reference resolver of `Document`. */
export const Document: DocumentResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => em.findOne(DocumentEntity, { id }));
  },
};
