import type { TenantScope } from '#kernel/db/tenant-context.ts';
import type { RecordingContext } from '#llm/generations/recorded-chat.ts';

/** One retrieved passage given to an answerer, numbered from 1 in the order it was given. */
export interface AnswerSource {
  /** 1-based number the answer cites it by (`[n]`). */
  readonly n: number;
  readonly chunkId: string;
  readonly documentId: string;
  readonly title: string;
  /** Heading path, e.g. `Server Configuration › Connections › port` (empty when none). */
  readonly headingPath: string;
  readonly page: number | null;
  readonly text: string;
  /** The fused retrieval score (higher is better). */
  readonly score: number;
}

/** A claim's support: the source it cites and the exact quote from that source's text. */
export interface AnswerCitation {
  readonly n: number;
  readonly quote: string;
}

/** What an answerer produced. */
export interface AnswerDraft {
  readonly text: string;
  /** Citations that point at a given source; each `quote` occurs in that source's text. */
  readonly citations: readonly AnswerCitation[];
  /** Citation markers that pointed at no given source and were removed from `text`. */
  readonly droppedCitations: number;
  /** Whether the answer says the documents do not answer the question. */
  readonly unanswered: boolean;
  readonly model: string;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
}

/** How an answer is being asked for. */
export interface AnswerOptions {
  /** The asking tenant's scope: the chat answerer reads the tenant's current prompt version through it. */
  readonly scope?: TenantScope;
  /** Aborts generation (client went away, kill switch, timeout). */
  readonly signal?: AbortSignal;
  /** Called with each piece of text as it is produced (streaming). */
  readonly onToken?: (token: string) => void;
  /** Records the model call as a generation of this caller (ADR 0037); absent: not recorded. */
  readonly recording?: RecordingContext;
}

/**
 * Writes an answer to a question from numbered sources, citing them. Implementations: the offline
 * extractive answerer (sentences taken from the sources, never invented) and the OpenAI-compatible
 * chat answerer (`LLM_PROVIDER=openai`).
 */
export interface Answerer {
  readonly model: string;
  answer(question: string, sources: readonly AnswerSource[], options?: AnswerOptions): Promise<AnswerDraft>;
}
