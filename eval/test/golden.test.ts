// The golden dataset is true to its corpus: every required string occurs in the text the platform's own
// HTML parser extracts from the item's source page, and paraphrase questions really avoid the page's words.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containsNormalised, corpusDir, pageText } from '../src/corpus.ts';
import { CATEGORIES, loadGolden } from '../src/golden.ts';
import { absentWords } from '../src/words.ts';

/** Fewest absent content words that make a question a paraphrase of its page. */
const MIN_ABSENT_WORDS = 2;

const items = loadGolden();
const dir = corpusDir();
const texts = new Map<string, string>();
const textOf = (source: string) => {
  if (!texts.has(source)) texts.set(source, pageText(readFileSync(join(dir, source), 'utf8')));
  return texts.get(source)!;
};

describe('golden dataset', () => {
  it('has at least 100 items with unique ids', () => {
    expect(items.length).toBeGreaterThanOrEqual(100);
    const ids = items.map((item) => item.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('covers every category with at least five items', () => {
    const thin = CATEGORIES.map((category) => ({
      category,
      n: items.filter((item) => item.category === category).length,
    })).filter(({ n }) => n < 5);
    expect(thin).toEqual([]);
  });

  it('has at least 20 paraphrase questions', () => {
    expect(items.filter((item) => item.paraphrase).length).toBeGreaterThanOrEqual(20);
  });

  it('names source pages that exist in the corpus (never the table of contents)', () => {
    expect(items.filter((item) => !existsSync(join(dir, item.source))).map((item) => item.id)).toEqual([]);
    expect(items.filter((item) => item.source === 'index.html').map((item) => item.id)).toEqual([]);
  });

  it('finds every mustContain string in the parsed text of its source page', () => {
    const missing = items.flatMap((item) =>
      item.mustContain
        .filter((needle) => !containsNormalised(textOf(item.source), needle))
        .map((needle) => `${item.id}: "${needle}" is not in ${item.source}`),
    );
    expect(missing).toEqual([]);
  });

  it(`words every paraphrase question with at least ${MIN_ABSENT_WORDS} content words its page lacks`, () => {
    const weak = items
      .filter((item) => item.paraphrase)
      .map((item) => ({ id: item.id, absent: absentWords(item.question, textOf(item.source)) }))
      .filter(({ absent }) => absent.length < MIN_ABSENT_WORDS);
    expect(weak).toEqual([]);
  });

  it('the checks can fail: an altered string is not found, a question made of page words is no paraphrase', () => {
    const item = items.find((i) => i.id === 'apt-update-lists')!;
    const text = textOf(item.source);
    expect(containsNormalised(text, item.mustContain[0]!)).toBe(true);
    expect(containsNormalised(text, `${item.mustContain[0]!}-never-written`)).toBe(false);
    expect(absentWords('Which command updates the list of available packages?', text)).toEqual([]);
  });
});

describe('loadGolden', () => {
  it('names the file and line of a malformed item', () => {
    const folder = mkdtempSync(join(tmpdir(), 'wtdc-golden-'));
    writeFileSync(
      join(folder, 'x.jsonl'),
      `${JSON.stringify(items[0])}\n{"id":"Bad Id","question":"short","source":"a.txt","mustContain":[],"category":"fact"}\n`,
    );
    expect(() => loadGolden(folder)).toThrow(/^x\.jsonl:2: id: id must be lower-case words/);
    expect(() => loadGolden(folder)).toThrow(/source: source must be a file name ending in \.html/);
  });
});
