import type { AnswerSource } from '../../src/answer/answerer.ts';
import {
  bestQuote,
  CitationFilter,
  citationsOf,
  filterCitations,
  sentences,
} from '../../src/answer/citations.ts';

const valid = (n: number) => n >= 1 && n <= 3;

describe('citation markers', () => {
  it('removes markers to sources that were not given, with the space before them, and counts the numbers', () => {
    expect(filterCitations('Paris is the capital [1]. Lyon is larger [9]. Both [2, 7][3].', valid)).toEqual({
      text: 'Paris is the capital [1]. Lyon is larger. Both [2][3].',
      dropped: 2,
    });
    expect(filterCitations('Arrays [a] and x[0] stay; so does [1, 2].', valid)).toEqual({
      text: 'Arrays [a] and x[0] stay; so does [1, 2].',
      dropped: 0,
    });
  });

  it('gives the same text piece by piece as all at once, holding back only a possible marker', () => {
    const text = 'Port 5432 is the default [1]. It can change [4] [2].  Done [';
    const filter = new CitationFilter(valid);
    const out: string[] = [];
    for (const piece of [
      'Port 5432 is the default ',
      '[',
      '1',
      '].',
      ' It can change [',
      '4',
      '] [2',
      '].  Done [',
    ]) {
      out.push(filter.push(piece));
    }
    out.push(filter.flush());
    expect(out.join('')).toBe(filterCitations(text, valid).text);
    expect(out.join('')).toBe('Port 5432 is the default [1]. It can change [2].  Done [');
    // Nothing that is certain is held back: after "default " only the space waits.
    expect(out[0]).toBe('Port 5432 is the default');
  });

  it('splits sentences, keeping the markers that follow a full stop with their sentence', () => {
    expect(
      sentences('First one. [1] Second one [2]. Third?\nA heading\n\nLast! [3][1]').map((s) => s.text),
    ).toEqual(['First one. [1]', 'Second one [2].', 'Third?', 'A heading', 'Last! [3][1]']);
  });

  it('quotes the sentence of the source that best supports the cited sentence', () => {
    const source =
      'PostgreSQL listens on TCP port 5432 by default. The port can be changed in postgresql.conf. Connections are limited by max_connections.';
    expect(bestQuote('The default port is 5432 [1].', source)).toBe(
      'PostgreSQL listens on TCP port 5432 by default.',
    );
    expect(bestQuote('Change it in postgresql.conf [1].', source)).toBe(
      'The port can be changed in postgresql.conf.',
    );
    expect(bestQuote('Unrelated words entirely [1].', 'Only sentence here')).toBe('Only sentence here');
  });

  it('lists one citation per cited source and sentence, in order, each quote taken from its source', () => {
    const sources: AnswerSource[] = [
      {
        n: 1,
        chunkId: 'c1',
        documentId: 'd1',
        title: 'A',
        headingPath: '',
        page: null,
        score: 1,
        text: 'Cats sleep 16 hours a day. Cats purr.',
      },
      {
        n: 2,
        chunkId: 'c2',
        documentId: 'd2',
        title: 'B',
        headingPath: '',
        page: null,
        score: 1,
        text: 'Dogs bark at strangers. Dogs sleep less.',
      },
    ];
    const citations = citationsOf('Cats sleep 16 hours [1]. Dogs bark [2][1]. They purr [1].', sources);
    expect(citations).toEqual([
      { n: 1, quote: 'Cats sleep 16 hours a day.' },
      { n: 2, quote: 'Dogs bark at strangers.' },
      { n: 1, quote: 'Cats purr.' },
    ]);
    for (const c of citations) expect(sources[c.n - 1]!.text).toContain(c.quote);
  });
});
