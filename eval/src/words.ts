/**
 * Content words of a question and whether a page uses them, for the paraphrase check: a golden
 * question marked `paraphrase` must ask with words its source page does not contain, so a
 * retriever cannot succeed by word overlap alone.
 */

/** English function words and question words, ignored when comparing vocabularies. */
export const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each few for from further had has have ' +
    'having he her here hers herself him himself his how i if in into is it its itself just me more most ' +
    'my myself no nor not now of off on once only or other our ours ourselves out over own same she ' +
    'should so some such than that the their theirs them themselves then there these they this those ' +
    'through to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours yourself yourselves one ones get gets got also may might must shall us let ' +
    'without within'
  ).split(' '),
);

/** Words of at least three letters or digits, lower-cased, in order of appearance. */
export function wordsOf(text: string): string[] {
  return (
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  ).filter((w) => w.length >= 3);
}

/**
 * A crude suffix-stripping stem ("packages", "packaged", "packaging" → "packag"), so that an
 * inflection of a page's word counts as the page's word. Crude on purpose: the more words it
 * merges, the stricter the paraphrase check.
 */
export function stem(word: string): string {
  for (const suffix of [
    'ingly',
    'edly',
    'ings',
    'ing',
    'ied',
    'ies',
    'ers',
    'er',
    'ed',
    'es',
    'ly',
    's',
    'e',
    'y',
  ]) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) return word.slice(0, -suffix.length);
  }
  return word;
}

/** Content words of `question` (stopwords ignored) whose stem no word of `pageText` has. */
export function absentWords(question: string, pageText: string): string[] {
  const present = new Set(wordsOf(pageText).map(stem));
  const content = [...new Set(wordsOf(question))].filter((w) => !STOPWORDS.has(w));
  return content.filter((w) => !present.has(stem(w)));
}
