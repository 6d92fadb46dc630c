import type { Document } from '../domain/document.entity.ts';
import type { ChunkView } from '../search/chunk-view.ts';
import type { StageTiming } from '../search/stages.ts';

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
}
