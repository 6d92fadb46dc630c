import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { DocumentResolvers } from '../__generated__/resolvers-types.ts';
import { Document as DocumentEntity } from '../domain/document.entity.ts';

/** Fields of `Document` that are not plain columns, and its reference resolver. */
export const Document: DocumentResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => em.findOne(DocumentEntity, { id }));
  },
  current: (doc) => doc.isCurrent,
  bytes: (doc) => (doc.bytes === null || doc.bytes === undefined ? null : Number(doc.bytes)),
  versions(doc, _args: unknown, ctx: RequestContext) {
    return ctx.db.run((em) => em.getRepository(DocumentEntity).lineageOf(doc));
  },
};
