import { queryWords, relaxedQueries } from '../../src/search/keyword-search.ts';

describe('the relaxed passes of keyword search', () => {
  it('takes each content word whole, for the configuration’s parser', () => {
    expect(queryWords('How do I configure apt-get proxy?')).toEqual({
      wanted: ['configure', 'apt-get', 'proxy?'],
      excluded: [],
    });
  });

  it('keeps quoted phrases as phrases and exclusions apart', () => {
    expect(queryWords('"point-in-time snapshots" redis -postgres -"two words" redis')).toEqual({
      wanted: ['"point-in-time snapshots"', 'redis'],
      excluded: ['postgres', '"two words"'],
    });
  });

  it('drops the operator or, stop words, empty phrases and bare punctuation', () => {
    expect(queryWords('alpha or the beta')).toEqual({ wanted: ['alpha', 'beta'], excluded: [] });
    expect(queryWords('or "" - ?! the')).toEqual({ wanted: [], excluded: [] });
    expect(queryWords('"unterminated phrase').wanted).toEqual(['"unterminated phrase"']);
  });

  it('tries all but one of the words, all but two, … then any of them', () => {
    expect(relaxedQueries(queryWords('alpha beta gamma'))).toEqual([
      'alpha beta or alpha gamma or beta gamma',
      'alpha or beta or gamma',
    ]);
    expect(relaxedQueries(queryWords('a1 b2 c3 d4'))).toEqual([
      'a1 b2 c3 or a1 b2 d4 or a1 c3 d4 or b2 c3 d4',
      'a1 b2 or a1 c3 or a1 d4 or b2 c3 or b2 d4 or c3 d4',
      'a1 or b2 or c3 or d4',
    ]);
    expect(relaxedQueries(queryWords('alpha beta'))).toEqual(['alpha or beta']);
    expect(relaxedQueries(queryWords('alpha'))).toEqual([]);
    // Thirteen words: 13 of 12, 78 pairs… only tiers of at most 40 combinations are tried, then any.
    const many = Array.from({ length: 13 }, (_, i) => `w${i}`);
    const tiers = relaxedQueries(queryWords(many.join(' ')));
    expect(tiers.map((t) => t.split(' or ').length)).toEqual([13, 13]);
    expect(tiers.at(-1)).toBe(many.join(' or '));
  });
});
