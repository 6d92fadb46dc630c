// Citation markers in a model's answer: `[n]`, `[n, m]`, `[n][m]`. Markers that name a source that
// was not given are removed (with the space before them), as the text streams and in the final
// text alike; the ones left are matched to the source sentence that best supports them.
import type { AnswerCitation, AnswerSource } from './answerer.ts';

const MARKER = /\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]/g;
/** Longest text held back while it may still become a marker (`[1234, 1235]`). */
const MAX_MARKER = 40;

/**
 * Removes markers to nonexistent sources from text given piece by piece, holding back only what
 * may still be part of a marker (a space, `[`, digits, commas). Piece by piece and all at once give
 * the same text.
 */
export class CitationFilter {
  readonly #valid: (n: number) => boolean;
  #pending = '';
  /** Numbers removed because no source has them. */
  dropped = 0;

  constructor(valid: (n: number) => boolean) {
    this.#valid = valid;
  }

  /** Takes the next piece; returns the text that is now certain. */
  push(piece: string): string {
    let out = '';
    for (const ch of piece) out += this.#char(ch);
    return out;
  }

  /** The text still held back, at the end of the answer. */
  flush(): string {
    const rest = this.#pending;
    this.#pending = '';
    return rest;
  }

  #char(ch: string): string {
    const open = this.#pending.indexOf('[');
    if (open === -1) {
      if (/\s/.test(ch) || ch === '[') {
        this.#pending += ch;
        return '';
      }
      return this.flush() + ch;
    }
    if (ch === ']') {
      const marker = `${this.#pending.slice(open)}]`;
      const space = this.#pending.slice(0, open);
      this.#pending = '';
      const kept = this.#resolve(marker);
      // A marker removed whole takes the space before it along ("Paris [9]." → "Paris.").
      return kept === '' ? '' : space + kept;
    }
    if (/[\d,\s]/.test(ch) && this.#pending.length - open < MAX_MARKER) {
      this.#pending += ch;
      return '';
    }
    // Not a marker after all: let it through and look at `ch` afresh.
    return this.flush() + this.#char(ch);
  }

  /** A complete `[…]`: itself, its valid numbers only, or '' when none is valid. */
  #resolve(marker: string): string {
    MARKER.lastIndex = 0;
    const match = MARKER.exec(marker);
    if (!match || match[0] !== marker) return marker;
    const numbers = match[1]!.split(',').map((n) => Number(n.trim()));
    // Sources are numbered from 1: `x[0]` is an index in code, not a citation.
    if (numbers.includes(0)) return marker;
    const kept = numbers.filter((n) => this.#valid(n));
    this.dropped += numbers.length - kept.length;
    return kept.length === 0 ? '' : `[${kept.join(', ')}]`;
  }
}

/** `text` without markers to nonexistent sources, and how many numbers were removed. */
export function filterCitations(
  text: string,
  valid: (n: number) => boolean,
): { text: string; dropped: number } {
  const filter = new CitationFilter(valid);
  return { text: filter.push(text) + filter.flush(), dropped: filter.dropped };
}

/** Sentences of `text` with their offsets; a sentence keeps the markers that follow its full stop. */
export function sentences(text: string): { text: string; start: number }[] {
  const out: { text: string; start: number }[] = [];
  const boundary = /(?<=[.!?…](?:["'»”)\]]*)(?:\s*\[\d[\d,\s]*\])*)\s+(?!\[\d)|\n\s*/gu;
  let start = 0;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const trimmed = raw.trim();
    if (trimmed) out.push({ text: trimmed, start: start + raw.indexOf(trimmed) });
  };
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) {
    push(m.index);
    start = m.index + m[0].length;
  }
  push(text.length);
  return out;
}

const STOP = new Set(
  'the a an and or of to in on for with by at from is are was were be been it its this that these those as not no can will do does how what which who when where why'.split(
    ' ',
  ),
);

/** Lower-cased content words (letters and digits, stop words out). */
function words(text: string): Set<string> {
  return new Set(
    (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter(
      (w) => !STOP.has(w) && (w.length > 1 || /\d/.test(w)),
    ),
  );
}

/** The sentence of `source` that shares the most of `claim`'s words (ties: the earlier one). */
export function bestQuote(claim: string, source: string): string {
  const wanted = words(claim.replace(MARKER, ''));
  let best = '';
  let bestScore = -1;
  for (const { text } of sentences(source)) {
    const have = words(text);
    let shared = 0;
    for (const w of wanted) if (have.has(w)) shared++;
    // Share of the claim covered, with a small preference for sentences that are mostly on topic.
    const score = shared / Math.max(1, wanted.size) + shared / Math.max(1, have.size) / 100;
    if (score > bestScore) {
      best = text;
      bestScore = score;
    }
  }
  return best || source.trim();
}

/** The citations of an answer whose markers all name given sources: one per cited (sentence, source), in order. */
export function citationsOf(text: string, sources: readonly AnswerSource[]): AnswerCitation[] {
  const byNumber = new Map(sources.map((s) => [s.n, s]));
  const out: AnswerCitation[] = [];
  const seen = new Set<string>();
  for (const sentence of sentences(text)) {
    for (const match of sentence.text.matchAll(MARKER)) {
      for (const n of match[1]!.split(',').map((x) => Number(x.trim()))) {
        const source = byNumber.get(n);
        if (!source) continue;
        const quote = bestQuote(sentence.text, source.text);
        const key = `${n}\u0000${quote}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ n, quote });
      }
    }
  }
  return out;
}
