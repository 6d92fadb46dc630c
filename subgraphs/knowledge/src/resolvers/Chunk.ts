import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { ChunkResolvers } from '../__generated__/resolvers-types.ts';
import { Document } from '../domain/document.entity.ts';
import { findChunk } from '../search/chunk-view.ts';

/** `Chunk`: its reference resolver and its document (already loaded by a search). */
export const Chunk: ChunkResolvers = {
  __resolveReference(reference: { id: string }, ctx: RequestContext) {
    const id = parseId(reference.id);
    return ctx.db.run((em) => findChunk(em, id));
  },
  async document(chunk, _args: unknown, ctx: RequestContext) {
    if (chunk.document) return chunk.document;
    const document = await ctx.db.run((em) => em.findOne(Document, { id: chunk.documentId }));
    // A chunk cascades with its document: a missing document means the chunk is gone too.
    if (!document) throw new Error(`chunk ${chunk.id} has no document`);
    return document;
  },
};
