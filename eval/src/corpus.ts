import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHtml } from '../../subgraphs/knowledge/src/ingest/parse-html.ts';

/** Where Debian's `debian-handbook` package puts the English HTML (the evaluation's corpus). */
export const DEFAULT_CORPUS_DIR = '/usr/share/doc/debian-handbook/html/en-US';
/** How to get the corpus when it is missing. */
export const CORPUS_INSTALL_HINT = 'apt-get install -y --no-install-recommends debian-handbook';

/** One page of the corpus: its file name and bytes. */
export interface CorpusPage {
  readonly file: string;
  readonly html: string;
}

/** The corpus folder, or a clear error saying how to install it. */
export function corpusDir(dir = DEFAULT_CORPUS_DIR): string {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(
      `The evaluation corpus is missing: ${dir}/index.html does not exist (${CORPUS_INSTALL_HINT})`,
    );
  }
  return dir;
}

/** Every HTML page of the corpus, sorted by file name. */
export function corpusPages(dir = DEFAULT_CORPUS_DIR): CorpusPage[] {
  const root = corpusDir(dir);
  return readdirSync(root)
    .filter((file) => file.endsWith('.html'))
    .sort()
    .map((file) => ({ file, html: readFileSync(join(root, file), 'utf8') }));
}

/** A page's text as the platform's own HTML parser extracts it (one block a line group). */
export function pageText(html: string): string {
  return parseHtml(html)
    .map((block) => block.text)
    .join('\n\n');
}

/** Text for comparisons: Unicode-normalised (NFKC), lower case, whitespace runs as one space. */
export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Whether `text` contains `needle`, both {@link normalise}d. */
export function containsNormalised(text: string, needle: string): boolean {
  return normalise(text).includes(normalise(needle));
}
