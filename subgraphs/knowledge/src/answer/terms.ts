// The offline answerer's words: lower-cased letters and digits, stop words dropped, light suffix
// stripping so that "connections" meets "connection" (the question and the passages alike).

const STOP_WORDS = new Set(
  (
    'a an the and or but if then else of to in on at by for with from into onto over under about as is are was were be been ' +
    'being am do does did doing done have has had having can could shall should will would may might must not no nor so ' +
    'than too very just also only own same such that this these those there here it its itself they them their theirs ' +
    'he him his she her hers we us our ours you your yours i me my mine what which who whom whose when where why how ' +
    'all any both each few more most other some many much one ones up down out off again further once s t ' +
    'tell explain describe show give please want know need use used using get make does mean happen happens ' +
    'og i er en et der den det de som på til af med for hvad hvor hvordan hvem hvornår hvorfor ikke har kan skal vil'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}_]+/gu;

/** Whether a lower-cased word is one of the stop words (English and Danish) the terms leave out. */
export function isStopWord(word: string): boolean {
  return STOP_WORDS.has(word);
}

/** The stem of a lower-cased word: plural, -ing, -ed and -ly endings stripped. */
export function stem(word: string): string {
  let w = word.endsWith("'s") ? word.slice(0, -2) : word;
  if (/^\p{N}+$/u.test(w) || w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5) w = w.slice(0, -3);
  else if (w.endsWith('ed') && w.length > 4) w = w.slice(0, -2);
  else if (w.endsWith('ly') && w.length > 4) w = w.slice(0, -2);
  return w;
}

/** The content-word stems of `text`, in order (stop words dropped). */
export function contentTerms(text: string): string[] {
  const out: string[] = [];
  for (const [word] of text.toLowerCase().matchAll(WORD)) {
    if (!STOP_WORDS.has(word)) out.push(stem(word));
  }
  return out;
}
