/**
 * Tokens as the chunker counts them: words (letters, digits, underscores) and single punctuation
 * marks. Close to a subword tokenizer's count on prose, deterministic and free of any model.
 */
const TOKEN = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

/** Number of tokens in `text`. */
export function countTokens(text: string): number {
  let n = 0;
  TOKEN.lastIndex = 0;
  while (TOKEN.exec(text)) n++;
  return n;
}

/** Splits `text` into pieces of at most `max` tokens, cutting between tokens (whitespace kept inside). */
export function splitByTokens(text: string, max: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  let count = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; m = TOKEN.exec(text)) {
    if (count === max) {
      pieces.push(text.slice(start, m.index).trim());
      start = m.index;
      count = 0;
    }
    count++;
  }
  const rest = text.slice(start).trim();
  if (rest) pieces.push(rest);
  return pieces;
}
