import { type EntityManager, LockMode, type MikroORM } from '@mikro-orm/postgresql';
import type { AnyEnvelope } from '#events/consumer/consumer.ts';
import { defineConsumer } from '#events/consumer/consumer.ts';
import { MAX_DELIVERIES } from '#events/consumer/worker.ts';
import { describeError, UnrecoverableError } from '#events/errors.ts';
import { TENANT_SETTING } from '#kernel/db/roles.ts';
import { isSingleSession } from '#kernel/db/single-session.ts';
import { BudgetExceededError } from '#kernel/errors.ts';
import {
  createGenerationRecorder,
  type GenerationRecorder,
  type GenerationScope,
  scopeOfTransaction,
} from '#llm/generations/generation-recorder.ts';
import type { GenerationActor } from '#llm/generations/record.ts';
import type { RecordingContext } from '#llm/generations/recorded-chat.ts';
import type { KnowledgeConfig } from '../config.ts';
import { getBlob } from '../domain/blob-store.ts';
import { ChunkSchema } from '../domain/chunk.entity.ts';
import { replaceChunks } from '../domain/chunk-writer.ts';
import { Document, DocumentSchema } from '../domain/document.entity.ts';
import { StatusSideChannel, statusChange } from '../domain/status-side-channel.ts';
import { assertEmbeddingColumn } from '../embeddings/create-embedder.ts';
import type { Embedder } from '../embeddings/embedder.ts';
import { recordedEmbed } from '../embeddings/recorded-embed.ts';
import { DocumentFailed, DocumentIngested, DocumentStatusChanged, DocumentUploaded } from '../events.ts';
import { DocumentContentError } from '../ingest/blocks.ts';
import { chunkBlocks, type DraftChunk, embeddingText } from '../ingest/chunker.ts';
import { normaliseMediaType } from '../ingest/media-types.ts';
import { parseDocument } from '../ingest/parse.ts';
import { stageClock } from './stage-clock.ts';

/** Consumer group of the ingestion workers. */
export const INGEST_GROUP = 'knowledge-ingest';

export { embeddingText };

/** Dependencies of the ingestion consumer. */
export interface IngestConsumerOptions {
  config: KnowledgeConfig;
  embedder: Embedder;
  /** Records each document's embedding call as a generation (ADR 0037); from `config.generations` when absent. */
  recorder?: GenerationRecorder;
}

/**
 * `knowledge-ingest`: reads document.uploaded, parses the stored bytes, chunks them, embeds the
 * chunks and writes them all in the event's transaction with the READY status and document.ingested,
 * so a document's chunks appear at once or not at all and a crash anywhere leaves the event to be
 * redelivered (the processed-event ledger makes a second completion impossible). Content that
 * cannot be ingested ("PDF has no text layer") is FAILED at once with document.failed; any other
 * failure is retried, and after the last attempt the document is marked FAILED and the event goes
 * to the dead-letter stream.
 */
export function createIngestConsumer({ config, embedder, recorder: given }: IngestConsumerOptions) {
  const recorder = given ?? createGenerationRecorder(config.generations);
  const limits = {
    maxPdfPages: config.maxPdfPages,
    maxDocxUncompressedBytes: config.maxDocxUncompressedBytes,
    maxDocxEntries: config.maxDocxEntries,
  };
  // Known after the first event (the database does not change under a running worker).
  let singleSession: boolean | undefined;
  const consumer = defineConsumer({
    group: INGEST_GROUP,
    events: [DocumentUploaded],
    entities: [DocumentSchema, ChunkSchema],
    async handle(event, ctx) {
      const { documentId } = event.payload;
      const em = ctx.em;
      const doc = await em.findOne(Document, { id: documentId });
      if (!doc) {
        ctx.logger.info('document deleted before ingestion', { documentId });
        return;
      }
      if (doc.finished) return;
      ctx.logger.debug('ingesting', { documentId, attempt: ctx.attempt });
      const clock = stageClock();
      singleSession ??= await isSingleSession(em);
      const side = new StatusSideChannel({
        em,
        tenantId: event.tenantId,
        singleSession,
        publishIn: ctx.publishIn,
        logger: ctx.logger,
      });
      if (ctx.attempt > MAX_DELIVERIES) {
        // Earlier deliveries ended without an answer (the worker died): a document that kills workers.
        const reason = `ingestion stopped ${ctx.attempt - 1} times without finishing (the document may be too large or malformed)`;
        await side.fail(documentId, reason);
        throw new UnrecoverableError(reason);
      }
      await side.progress(doc, 'PARSING');
      let chunks: { drafts: DraftChunk[]; vectors: number[][]; pageCount: number | null };
      try {
        const bytes = doc.contentSha256 ? await getBlob(em, doc.contentSha256) : undefined;
        if (!bytes) throw new UnrecoverableError(`the stored bytes of document ${documentId} are missing`);
        const mediaType = normaliseMediaType(doc.mimeType);
        if (!mediaType) throw new DocumentContentError(`${doc.mimeType} documents cannot be ingested`);
        clock.lap('read');
        const parsed = await parseDocument(bytes, mediaType, limits);
        clock.lap('parse');
        const drafts = chunkBlocks(parsed.blocks, {
          maxTokens: config.chunkTokens,
          overlapTokens: config.chunkOverlapTokens,
        });
        clock.lap('chunk');
        await side.progress(doc, 'EMBEDDING');
        const recording: RecordingContext = {
          recorder,
          // Beside the event's transaction on a server, so a failed call's record survives its rollback.
          scope: singleSession ? scopeOfTransaction(em, event.tenantId) : besideScope(em, event.tenantId),
          caller: { tenantId: event.tenantId, actor: uploaderOf(event), purpose: 'ingest' },
        };
        const vectors = await recordedEmbed(recording, embedder, drafts.map(embeddingText));
        clock.lap('embed');
        chunks = { drafts, vectors, pageCount: parsed.pageCount };
      } catch (error) {
        // A budget refusal will not pass by retrying within the month: the document fails with its message.
        if (error instanceof DocumentContentError || error instanceof BudgetExceededError) {
          await em.refresh(doc, { lockMode: LockMode.PESSIMISTIC_WRITE });
          if (doc.finished) return;
          const from = doc.markFailed(error.message);
          await em.flush();
          await ctx.publish(DocumentFailed, {
            aggregate: { type: 'Document', id: doc.id },
            payload: { documentId: doc.id, reason: doc.error! },
          });
          await ctx.publish(DocumentStatusChanged, statusChange(doc, from));
          return;
        }
        if (ctx.attempt >= MAX_DELIVERIES || error instanceof UnrecoverableError) {
          await side.fail(documentId, `ingestion failed ${ctx.attempt} times: ${describeError(error)}`);
        }
        throw error;
      }
      // Progress written beside this transaction has committed; the lock reads it.
      await em.refresh(doc, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (doc.finished) return;
      clock.lap('lock');
      await replaceChunks(
        em,
        event.tenantId,
        doc.id,
        embedder.model,
        chunks.drafts.map((draft, i) => ({ ...draft, embedding: chunks.vectors[i]! })),
      );
      const from = doc.markReady(chunks.drafts.length, chunks.pageCount);
      if (doc.sourceUri) {
        // The newest READY version is the one search sees (versions may finish out of order).
        const [row] = await em.execute<{ newest: number }[]>(
          `select max(version)::int as newest from knowledge.documents
           where source_uri = ? and (status = 'READY' or id = ?)`,
          [doc.sourceUri, doc.id],
        );
        await em.execute(
          `update knowledge.documents set is_current = (version = ?)
           where source_uri = ? and (status = 'READY' or id = ?)`,
          [row!.newest, doc.sourceUri, doc.id],
        );
        doc.isCurrent = doc.version === row!.newest;
      }
      await em.flush();
      await ctx.publish(DocumentIngested, {
        aggregate: { type: 'Document', id: doc.id },
        payload: {
          documentId: doc.id,
          version: doc.version,
          chunkCount: chunks.drafts.length,
          pageCount: chunks.pageCount,
          embeddingModel: embedder.model,
        },
      });
      await ctx.publish(DocumentStatusChanged, statusChange(doc, from));
      clock.lap('write');
      // One line a document, with where its time went (bench:ingest reads these). The commit
      // follows: a worker killed now redoes the document, and logs it again.
      ctx.logger.info('document indexed', {
        documentId,
        attempt: ctx.attempt,
        bytes: doc.bytes,
        pages: chunks.pageCount,
        chunks: chunks.drafts.length,
        ...clock.laps(),
      });
    },
  });
  return {
    ...consumer,
    /** Run by the worker before it reads: checks the vector column's size and loads the model. */
    async prepare(orm: MikroORM): Promise<void> {
      await assertEmbeddingColumn(orm.em.fork(), embedder);
      await embedder.embed(['warm-up']);
    },
  };
}

/**
 * Whom an ingestion's embedding is attributed to: the uploading user (the event's actor, or the user
 * a service uploaded for), else the service itself. The envelope's actor is the publisher's verified identity.
 */
function uploaderOf(event: AnyEnvelope): GenerationActor {
  if (event.actor.kind === 'user')
    return { kind: 'USER', userId: event.actor.id, userName: event.actor.name };
  if (event.onBehalfOf)
    return { kind: 'SERVICE', userId: event.onBehalfOf.id, userName: event.onBehalfOf.name };
  return { kind: 'SERVICE' };
}

/** A scope of short transactions of their own in the event's tenant, beside the event's transaction. */
function besideScope(em: EntityManager, tenantId: string): GenerationScope {
  return {
    tenantId,
    run: (work) =>
      em.fork({ clear: true }).transactional(async (tx) => {
        await tx.execute(`select set_config('${TENANT_SETTING}', ?, true)`, [tenantId]);
        return work(tx);
      }),
  };
}
