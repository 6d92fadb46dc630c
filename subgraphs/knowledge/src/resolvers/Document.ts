import { ValidationError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { DocumentResolvers } from '../__generated__/resolvers-types.ts';
import { Document as DocumentEntity } from '../domain/document.entity.ts';
import { chunksOf } from '../search/chunk-view.ts';

/** Most chunks one `Document.chunks` returns, and how many when `first` is absent. */
export const MAX_CHUNKS = 100;
export const DEFAULT_CHUNKS = 20;

function chunkWindow(args: { fromOrdinal?: number | null; first?: number | null }) {
  const fromOrdinal = args.fromOrdinal ?? 0;
  const first = args.first ?? DEFAULT_CHUNKS;
  if (!Number.isInteger(fromOrdinal) || fromOrdinal < 0)
    throw new ValidationError(`fromOrdinal must be 0 or more (got ${fromOrdinal})`, {
      argument: 'fromOrdinal',
    });
  if (!Number.isInteger(first) || first < 1 || first > MAX_CHUNKS)
    throw new ValidationError(`first must be from 1 to ${MAX_CHUNKS} (got ${first})`, {
      argument: 'first',
      max: MAX_CHUNKS,
    });
  return { fromOrdinal, first };
}

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
  async chunks(doc, args, ctx: RequestContext) {
    const { fromOrdinal, first } = chunkWindow(args);
    const chunks = await ctx.db.run((em) => chunksOf(em, doc.id, fromOrdinal, first));
    for (const chunk of chunks) chunk.document = doc;
    return chunks;
  },
};
