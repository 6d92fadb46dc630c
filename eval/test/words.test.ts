import { absentWords, stem, wordsOf } from '../src/words.ts';

describe('paraphrase vocabulary', () => {
  it('reads words of three or more letters or digits, lower-cased', () => {
    expect(wordsOf('How do I run APT-get on Debian 11?')).toEqual(['how', 'run', 'apt', 'get', 'debian']);
  });

  it('merges inflections through a crude stem', () => {
    expect(stem('packages')).toBe(stem('package'));
    expect(stem('installing')).toBe(stem('installed'));
  });

  it('lists the content words a page lacks, ignoring stopwords and inflections', () => {
    const page = 'The apt update command downloads the package lists.';
    expect(absentWords('Which command updates the lists?', page)).toEqual([]);
    expect(absentWords('How do I refresh the catalogue of software?', page)).toEqual([
      'refresh',
      'catalogue',
      'software',
    ]);
  });
});
