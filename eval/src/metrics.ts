/**
 * Retrieval and answer metrics of the evaluation (ADR 0020). Relevance is binary: each retrieved
 * passage is relevant or not (see `relevance.ts` for what makes it so).
 */
import { containsNormalised } from './corpus.ts';

/** The depth every retrieval metric is cut at. */
export const CUTOFF = 10;

/** One question's ranked list, judged: `ranked[i]` says whether the passage at rank i + 1 is relevant. */
export interface JudgedList {
  readonly ranked: readonly boolean[];
  /** How many relevant passages exist in the whole corpus for the question (the ideal list's length). */
  readonly relevantCount: number;
}

/** 1 when a relevant passage is among the first `k`, else 0. */
export function hitAt(k: number, list: JudgedList): number {
  return list.ranked.slice(0, k).some(Boolean) ? 1 : 0;
}

/** 1 / rank of the first relevant passage within the first `k` (MRR@k for one question), else 0. */
export function reciprocalRank(list: JudgedList, k = CUTOFF): number {
  const at = list.ranked.slice(0, k).indexOf(true);
  return at < 0 ? 0 : 1 / (at + 1);
}

/**
 * Normalised discounted cumulative gain at `k` with binary gains: DCG = Σ rel_i / log2(i + 1) over the
 * first k ranks, divided by the DCG of an ideal list holding min(k, relevant) relevant passages first.
 * 0 when the question has no relevant passage at all.
 */
export function ndcgAt(k: number, list: JudgedList): number {
  const top = list.ranked.slice(0, k);
  const found = top.filter(Boolean).length;
  const ideal = Math.min(k, Math.max(list.relevantCount, found));
  if (ideal === 0) return 0;
  let dcg = 0;
  for (const [i, relevant] of top.entries()) if (relevant) dcg += 1 / Math.log2(i + 2);
  let idcg = 0;
  for (let i = 0; i < ideal; i++) idcg += 1 / Math.log2(i + 2);
  return dcg / idcg;
}

/** Mean retrieval figures of one method over every question. */
export interface RetrievalScores {
  readonly questions: number;
  readonly hit1: number;
  readonly hit5: number;
  readonly hit10: number;
  readonly mrr10: number;
  readonly ndcg10: number;
}

/** Averages the per-question metrics of `lists` (all 0 for an empty set). */
export function retrievalScores(lists: readonly JudgedList[]): RetrievalScores {
  const mean = (f: (list: JudgedList) => number) =>
    lists.length === 0 ? 0 : lists.reduce((sum, list) => sum + f(list), 0) / lists.length;
  return {
    questions: lists.length,
    hit1: mean((l) => hitAt(1, l)),
    hit5: mean((l) => hitAt(5, l)),
    hit10: mean((l) => hitAt(10, l)),
    mrr10: mean((l) => reciprocalRank(l, CUTOFF)),
    ndcg10: mean((l) => ndcgAt(CUTOFF, l)),
  };
}

/** Whether `answer` contains every required string, case- and whitespace-insensitively. */
export function answerContains(answer: string, mustContain: readonly string[]): boolean {
  return mustContain.every((needle) => containsNormalised(answer, needle));
}

/** A cited sentence: the quote the answer attributes to a chunk, and that chunk's text. */
export interface CitedQuote {
  readonly quote: string;
  readonly chunkText: string;
}

/** Whether the quote occurs in the chunk it cites (case- and whitespace-insensitively). */
export function supported(citation: CitedQuote): boolean {
  return citation.quote.trim() !== '' && containsNormalised(citation.chunkText, citation.quote);
}

/** Figures of the answers to every question. */
export interface AnswerScores {
  readonly questions: number;
  /** Share of answers containing all their required strings. */
  readonly containment: number;
  /** Share of all cited sentences (over every answer) supported by their cited chunk; null when none was cited. */
  readonly citationSupport: number | null;
  readonly citations: number;
  /** Share of answers that said the documents do not answer the question. */
  readonly unanswered: number;
}

/** One answer, judged. */
export interface JudgedAnswer {
  readonly contains: boolean;
  readonly citations: readonly CitedQuote[];
  readonly unanswered: boolean;
}

/** Aggregates judged answers: containment per answer, citation support over all cited sentences. */
export function answerScores(answers: readonly JudgedAnswer[]): AnswerScores {
  const n = answers.length;
  const citations = answers.flatMap((a) => a.citations);
  return {
    questions: n,
    containment: n === 0 ? 0 : answers.filter((a) => a.contains).length / n,
    citationSupport: citations.length === 0 ? null : citations.filter(supported).length / citations.length,
    citations: citations.length,
    unanswered: n === 0 ? 0 : answers.filter((a) => a.unanswered).length / n,
  };
}
