import { countTokens } from '../ingest/tokens.ts';
import type { AnswerCitation, AnswerDraft, Answerer, AnswerOptions, AnswerSource } from './answerer.ts';
import { groundedPrompt } from './llm-answerer.ts';
import { splitSentences } from './sentences.ts';
import { contentTerms } from './terms.ts';

/** `gen_ai.provider.name` of the offline answerer's generations (they cost nothing). */
export const EXTRACTIVE_PROVIDER = 'widgetdc.extractive';

/** What the offline answerer says when the documents do not answer. */
export const NO_ANSWER = 'The documents do not answer this question.';
/** Most sentences an offline answer quotes. */
export const MAX_ANSWER_SENTENCES = 3;
/** A sentence is quoted too when it scores at least this share of the best one. */
const RUNNER_UP_SHARE = 0.75;
/** Words of a source's title and heading path count this much of a word in the sentence itself. */
const HEADING_SHARE = 0.5;
/** Words of the neighbouring sentences (which come with the best one into the answer) count this much. */
const NEIGHBOUR_SHARE = 0.5;

/** Options of {@link OfflineAnswerer}. */
export interface OfflineAnswererOptions {
  /** Share of the question's weighted words the best sentence must cover (KNOWLEDGE_ANSWER_MIN_COVERAGE). */
  readonly minCoverage: number;
}

interface Candidate {
  readonly n: number;
  readonly order: number;
  readonly text: string;
  /** Coverage by the sentence itself (its words, its section's headings at half): which sentence leads. */
  readonly score: number;
  /** Coverage with the neighbours that follow it into the answer counting half: whether it answers. */
  readonly window: number;
}

/**
 * The offline default: extractive, so it never invents. It scores every sentence of the sources
 * by the share of the question's content words it contains (each word weighted by its rarity
 * among the sentences; words of the section's headings count half), and answers with the best
 * sentences, each followed by its source's `[n]` and quoted exactly. When even the best covers less
 * than `minCoverage`, retrieval found nothing that answers and it says so plainly.
 */
export class OfflineAnswerer implements Answerer {
  readonly model = 'offline-extractive';
  readonly #minCoverage: number;

  constructor(options: OfflineAnswererOptions) {
    this.#minCoverage = options.minCoverage;
  }

  /** The answer, recorded as a generation of `options.recording`'s caller when given (ADR 0037). */
  answer(
    question: string,
    sources: readonly AnswerSource[],
    options: AnswerOptions = {},
  ): Promise<AnswerDraft> {
    const { recording } = options;
    if (!recording) return this.#answer(question, sources, options);
    const prompt = groundedPrompt(question, sources);
    return recording.recorder.observe(
      recording.scope,
      {
        caller: recording.caller,
        operation: 'chat',
        provider: EXTRACTIVE_PROVIDER,
        model: this.model,
        input: { messages: [{ role: 'user', content: prompt }] },
        estimatedTokens: countTokens(prompt),
      },
      (handle) =>
        this.#answer(question, sources, {
          ...options,
          onToken: (text) => {
            handle.firstToken();
            options.onToken?.(text);
          },
        }),
      (draft) => ({
        responseModel: draft.model,
        output: draft.text,
        inputTokens: draft.usage.promptTokens,
        outputTokens: draft.usage.completionTokens,
      }),
    );
  }

  async #answer(
    question: string,
    sources: readonly AnswerSource[],
    options: AnswerOptions = {},
  ): Promise<AnswerDraft> {
    options.signal?.throwIfAborted();
    const best = this.#rank(question, sources);
    const promptTokens = countTokens(question) + sources.reduce((sum, s) => sum + countTokens(s.text), 0);
    const top = best[0];
    if (!top || top.window < this.#minCoverage)
      return this.#draft(NO_ANSWER, [], true, promptTokens, options);
    const floor = top.score * RUNNER_UP_SHARE;
    const chosen: Candidate[] = [];
    const seen = new Set<string>();
    const key = (c: Candidate) => c.text.toLowerCase().replace(/\s+/g, ' ');
    for (const candidate of best) {
      if (candidate.score < floor || chosen.length === MAX_ANSWER_SENTENCES) break;
      if (seen.has(key(candidate))) continue;
      seen.add(key(candidate));
      chosen.push(candidate);
    }
    // The best sentence leads, and its neighbours in the passage follow it: text names a subject in
    // one sentence and gives the specifics (the command, the value) in the next, or refers back to
    // the previous one ("this option"). Each is quoted and cited like the others.
    const neighbour = (order: number) => best.find((c) => c.n === top.n && c.order === order);
    const previous = neighbour(top.order - 1);
    const next = neighbour(top.order + 1);
    const context = [next, previous].filter((c): c is Candidate => c !== undefined && !seen.has(key(c)));
    chosen.splice(1, 0, ...context);
    // Streamed sentence by sentence: the pieces joined are the text.
    const pieces = chosen.map((c, i) => `${i > 0 ? ' ' : ''}${c.text} [${c.n}]`);
    const citations = chosen.map((c) => ({ n: c.n, quote: c.text }));
    return this.#draft(pieces, citations, false, promptTokens, options);
  }

  #draft(
    pieces: string | string[],
    citations: AnswerCitation[],
    unanswered: boolean,
    promptTokens: number,
    options: AnswerOptions,
  ): AnswerDraft {
    const text = typeof pieces === 'string' ? pieces : pieces.join('');
    for (const piece of typeof pieces === 'string' ? [pieces] : pieces) options.onToken?.(piece);
    return {
      text,
      citations,
      droppedCitations: 0,
      unanswered,
      model: this.model,
      usage: { promptTokens, completionTokens: countTokens(text) },
    };
  }

  /** Every sentence of the sources with its coverage of the question, best first. */
  #rank(question: string, sources: readonly AnswerSource[]): Candidate[] {
    const asked = [...new Set(contentTerms(question))];
    if (asked.length === 0) return [];
    const sentences = sources.flatMap((source) =>
      splitSentences(source.text).map((s, order) => ({
        n: source.n,
        order,
        text: s.text,
        terms: new Set(contentTerms(s.text)),
        heading: new Set(contentTerms(`${source.title} ${source.headingPath}`)),
      })),
    );
    const df = new Map<string, number>();
    for (const s of sentences) for (const t of s.terms) df.set(t, (df.get(t) ?? 0) + 1);
    // Rare words weigh more; a word no sentence holds weighs most (the question asks for something absent).
    const weight = new Map(
      asked.map((t) => [t, Math.log(1 + (sentences.length + 1) / (1 + (df.get(t) ?? 0)))]),
    );
    const total = [...weight.values()].reduce((a, b) => a + b, 0);
    return sentences
      .map((s, i) => {
        const next = sentences[i + 1]?.n === s.n ? sentences[i + 1]!.terms : undefined;
        const previous = sentences[i - 1]?.n === s.n ? sentences[i - 1]!.terms : undefined;
        let own = 0;
        let window = 0;
        for (const t of asked) {
          const w = weight.get(t)!;
          const near = next?.has(t) || previous?.has(t);
          if (s.terms.has(t)) {
            own += w;
            window += w;
          } else if (s.heading.has(t) || near) {
            if (s.heading.has(t)) own += HEADING_SHARE * w;
            window += Math.max(s.heading.has(t) ? HEADING_SHARE : 0, near ? NEIGHBOUR_SHARE : 0) * w;
          }
        }
        return { n: s.n, order: s.order, text: s.text, score: own / total, window: window / total };
      })
      .sort((a, b) => b.score - a.score || a.n - b.n || a.order - b.order);
  }
}
