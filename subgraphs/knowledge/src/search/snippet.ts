/** What ts_headline is asked to put around a match: control characters no chunk keeps. */
export const MARK_START = '\u0001';
/** See {@link MARK_START}. */
export const MARK_END = '\u0002';

/** Stands in for `<` while ts_headline reads the text (its parser would take markup for tags and drop it). */
export const LESS_THAN = '\u0003';

/** translate()'s arguments: `<` becomes {@link LESS_THAN}; the three control characters are removed. */
export const TRANSLATE_FROM = `<${MARK_START}${MARK_END}${LESS_THAN}`;
/** See {@link TRANSLATE_FROM}. */
export const TRANSLATE_TO = LESS_THAN;

/** ts_headline's options: one contiguous excerpt of 20 to 40 words around the best match. */
export const HEADLINE_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MinWords=20, MaxWords=40, ShortWord=2, MaxFragments=0`;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * The HTML snippet of a ts_headline result: `<` restored, everything escaped, then the match
 * markers (which the query stripped from the text first) become <mark> elements, so a chunk's own markup never
 * reaches a client as markup.
 */
export function toSnippet(headline: string): string {
  const escaped = headline.replaceAll(LESS_THAN, '<').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
  return escaped.replaceAll(MARK_START, '<mark>').replaceAll(MARK_END, '</mark>');
}
