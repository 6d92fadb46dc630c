/** A sentence of a passage: its exact text and where it starts. */
export interface Sentence {
  readonly text: string;
  readonly start: number;
}

/**
 * Splits a passage into sentences at `.`, `!`, `?` followed by white space and an upper-case
 * letter, a digit or an opening mark, and at line breaks (list items, table rows, headings). Each
 * sentence is an exact slice of the passage (trimmed), so it can be quoted verbatim.
 */
export function splitSentences(text: string): Sentence[] {
  const out: Sentence[] = [];
  const boundary = /[.!?]["')\]]?(?=\s+[\p{Lu}\p{N}"'([])|\n/gu;
  let start = 0;
  const push = (end: number) => {
    const raw = text.slice(start, end);
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    if (/[\p{L}\p{N}]/u.test(trimmed)) out.push({ text: trimmed, start: start + lead });
  };
  for (const match of text.matchAll(boundary)) {
    const end = match.index + match[0].length;
    push(end);
    start = end;
  }
  push(text.length);
  return out;
}
