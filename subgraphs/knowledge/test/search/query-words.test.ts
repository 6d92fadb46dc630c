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

  it('tries at least two of three or more words, then any of them', () => {
    expect(relaxedQueries(queryWords('alpha beta gamma'))).toEqual([
      'alpha beta or alpha gamma or beta gamma',
      'alpha or beta or gamma',
    ]);
    expect(relaxedQueries(queryWords('alpha beta'))).toEqual(['alpha or beta']);
    expect(relaxedQueries(queryWords('alpha'))).toEqual([]);
    // Too many words for pairs (n(n-1)/2 of them): any of them only.
    const many = Array.from({ length: 13 }, (_, i) => `w${i}`).join(' ');
    expect(relaxedQueries(queryWords(many))).toEqual([many.split(' ').join(' or ')]);
  });
});
