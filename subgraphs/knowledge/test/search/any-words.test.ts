import { anyWords } from '../../src/search/keyword-search.ts';

describe('anyWords: the any-word pass of keyword search', () => {
  it('makes each word an alternative and keeps words whole for the parser', () => {
    expect(anyWords('How do I configure apt-get proxy?')).toEqual({
      wanted: 'How or do or I or configure or apt-get or proxy?',
      excluded: '',
    });
  });

  it('keeps quoted phrases as phrases and exclusions apart', () => {
    expect(anyWords('"point-in-time snapshots" redis -postgres -"two words"')).toEqual({
      wanted: '"point-in-time snapshots" or redis',
      excluded: 'postgres or "two words"',
    });
  });

  it('drops the operator or, empty phrases and bare punctuation', () => {
    expect(anyWords('a or b')).toEqual({ wanted: 'a or b', excluded: '' });
    expect(anyWords('or "" - ?!')).toEqual({ wanted: '', excluded: '' });
    expect(anyWords('"unterminated phrase')).toEqual({ wanted: '"unterminated phrase"', excluded: '' });
  });
});
