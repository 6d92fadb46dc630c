import {
  answerContains,
  answerScores,
  hitAt,
  ndcgAt,
  reciprocalRank,
  retrievalScores,
} from '../src/metrics.ts';

const list = (ranked: string, relevantCount: number) => ({
  ranked: [...ranked].map((c) => c === '1'),
  relevantCount,
});

describe('retrieval metrics', () => {
  it('hit@k is 1 exactly when a relevant passage is within the first k', () => {
    const l = list('0001000000', 1);
    expect([hitAt(1, l), hitAt(3, l), hitAt(4, l), hitAt(10, l)]).toEqual([0, 0, 1, 1]);
    expect(hitAt(10, list('', 1))).toBe(0);
  });

  it('reciprocal rank is 1/rank of the first relevant passage, 0 past the cutoff', () => {
    expect(reciprocalRank(list('1000000000', 1))).toBe(1);
    expect(reciprocalRank(list('0010100000', 2))).toBeCloseTo(1 / 3);
    expect(reciprocalRank(list('00000000001', 1))).toBe(0);
  });

  it('nDCG@10 is 1 for an ideal list and discounts by log2(rank + 1)', () => {
    expect(ndcgAt(10, list('1100000000', 2))).toBe(1);
    // One relevant of one, at rank 2: 1/log2(3).
    expect(ndcgAt(10, list('0100000000', 1))).toBeCloseTo(1 / Math.log2(3));
    // Two found at ranks 1 and 3 of three relevant: (1 + 1/2) / (1 + 1/log2(3) + 1/2).
    expect(ndcgAt(10, list('1010000000', 3))).toBeCloseTo(1.5 / (1 + 1 / Math.log2(3) + 0.5));
    // The ideal list is cut at k.
    expect(ndcgAt(10, list('1111111111', 25))).toBe(1);
    expect(ndcgAt(10, list('0000000000', 0))).toBe(0);
  });

  it('never exceeds 1 when the list finds more relevant passages than were counted', () => {
    expect(ndcgAt(10, list('1110000000', 1))).toBe(1);
  });

  it('averages over questions', () => {
    const scores = retrievalScores([list('1000000000', 1), list('0000010000', 1)]);
    expect(scores).toEqual({
      questions: 2,
      hit1: 0.5,
      hit5: 0.5,
      hit10: 1,
      mrr10: (1 + 1 / 6) / 2,
      ndcg10: (1 + 1 / Math.log2(7)) / 2,
    });
  });
});

describe('answer metrics', () => {
  it('containment needs every string, ignoring case and whitespace', () => {
    expect(answerContains('Run  APT\nupdate, then apt upgrade.', ['apt update', 'apt upgrade'])).toBe(true);
    expect(answerContains('Run apt update.', ['apt update', 'apt upgrade'])).toBe(false);
  });

  it('citation support is the share of cited quotes found in their chunk, over all answers', () => {
    const scores = answerScores([
      {
        contains: true,
        unanswered: false,
        citations: [
          {
            quote: 'Each installed package version has a priority of 100.',
            chunkText: 'x. Each installed package  version has a priority of 100. y',
          },
          { quote: 'An invented sentence.', chunkText: 'Something else entirely.' },
        ],
      },
      { contains: false, unanswered: true, citations: [{ quote: '', chunkText: 'anything' }] },
      { contains: true, unanswered: false, citations: [] },
    ]);
    expect(scores).toEqual({
      questions: 3,
      containment: 2 / 3,
      citationSupport: 1 / 3,
      citations: 3,
      unanswered: 1 / 3,
    });
  });

  it('reports no citation support when nothing was cited', () => {
    expect(answerScores([{ contains: false, unanswered: true, citations: [] }]).citationSupport).toBeNull();
  });
});
