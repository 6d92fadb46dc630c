import { performance } from 'node:perf_hooks';
import { type Span, TraceFlags } from '@opentelemetry/api';
import type { TenantScope } from '#kernel/db/tenant-context.ts';
import type { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import type { GenerationCaller } from '#llm/generations/record.ts';
import type { Document } from '../domain/document.entity.ts';
import type { ChunkView } from '../search/chunk-view.ts';
import type { SearchFilter } from '../search/filter.ts';
import type { SearchService } from '../search/search.service.ts';
import { StageClock, type StageTiming, traced } from '../search/stages.ts';
import type { Answerer, AnswerOptions, AnswerSource } from './answerer.ts';

/** The stages an answer reports, in this order (0 ms when one did not run). */
export const ANSWER_STAGES = [
  'embedding',
  'keyword',
  'vector',
  'fusion',
  'rerank',
  'passages',
  'generation',
] as const;

/** A citation as `Citation` shows it. */
export interface CitationView {
  readonly n: number;
  readonly chunk: ChunkView & { document: Document };
  readonly document: Document;
  readonly quote: string;
}

/** An answer as `Answer` shows it. */
export interface AnswerView {
  readonly text: string;
  readonly citations: readonly CitationView[];
  readonly model: string;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  readonly timings: readonly StageTiming[];
  readonly unanswered: boolean;
  readonly traceId: string | null;
  /** Citations the answerer made that pointed at no source or quoted what the source does not say. */
  readonly droppedCitations: number;
}

/** What `ask` needs. */
export interface AskServiceOptions {
  readonly search: SearchService;
  readonly answerer: Answerer;
  /** Passages handed to the answerer (KNOWLEDGE_ANSWER_SOURCES). */
  readonly sources: number;
  /** Records the answer's model call (and the query's embedding) as generations of the caller (ADR 0037). */
  readonly recorder?: GenerationRecorder;
}

/** How `ask` is asked: the answerer's options, and the verified caller its generations belong to. */
export interface AskOptions extends AnswerOptions {
  readonly caller?: GenerationCaller;
}

/**
 * Grounded answers: hybrid retrieval of the best passages, numbered from 1, handed to the
 * answerer; its citations are checked against the passages it was given (a number it was not
 * given, or a quote its passage does not contain, is dropped and counted). One root span
 * (`knowledge.ask`) holds a span per stage; the answer's timings are those spans' durations.
 */
export class AskService {
  readonly #o: AskServiceOptions;

  constructor(options: AskServiceOptions) {
    this.#o = options;
  }

  /**
   * Answers `question` from the caller's tenant's documents; `options.onToken` hears the text as it
   * is written (askStream), `options.signal` cancels retrieval's wait and the generation.
   */
  ask(
    scope: TenantScope,
    question: string,
    filter: SearchFilter,
    options: AskOptions = {},
  ): Promise<AnswerView> {
    return traced('knowledge.ask', async (contextTraceId, span) => {
      // Only a sampled trace is recorded (span store, OTLP): an unsampled one's id would open nothing.
      const traceId = isRecorded(span) ? contextTraceId : null;
      const started = performance.now();
      const clock = new StageClock();
      const hits = await this.#o.search.search(
        scope,
        { query: question, first: this.#o.sources, filter, mode: 'HYBRID' },
        clock,
        options.caller,
      );
      const sources: AnswerSource[] = hits.map((hit, i) => ({
        n: i + 1,
        chunkId: hit.chunk.id,
        documentId: hit.chunk.documentId,
        title: hit.chunk.document.title,
        headingPath: hit.chunk.headingPath,
        page: hit.chunk.page,
        text: hit.chunk.text,
        score: hit.score,
      }));
      const { caller, ...answerOptions } = options;
      const recorder = this.#o.recorder;
      const recording = recorder && caller ? { recorder, scope, caller } : undefined;
      const draft = await clock.run('generation', () =>
        this.#o.answerer.answer(question, sources, {
          ...answerOptions,
          scope,
          ...(recording ? { recording } : {}),
        }),
      );
      const citations: CitationView[] = [];
      for (const citation of draft.citations) {
        const hit = hits[citation.n - 1];
        if (!hit || !citation.quote || !hit.chunk.text.includes(citation.quote)) continue;
        citations.push({
          n: citation.n,
          chunk: hit.chunk,
          document: hit.chunk.document,
          quote: citation.quote,
        });
      }
      const total = performance.now() - started;
      return {
        text: draft.text,
        citations,
        model: draft.model,
        usage: draft.usage,
        timings: [
          ...ANSWER_STAGES.map((stage) => ({ stage, ms: clock.ms(stage) })),
          { stage: 'total', ms: total },
        ],
        unanswered: draft.unanswered,
        traceId,
        droppedCitations: draft.droppedCitations + draft.citations.length - citations.length,
      };
    });
  }
}

/** Whether the span is recorded and exported: a sampler that drops its trace keeps nothing of it. */
function isRecorded(span: Span): boolean {
  return span.isRecording() && (span.spanContext().traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}
