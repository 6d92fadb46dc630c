import type { ItemOutcome } from '../src/evaluate.ts';
import { checkAgainst, formatTable, summarise } from '../src/report.ts';

const outcome = (id: string, hybrid: string, paraphrase = false, contains = true): ItemOutcome => {
  const ranked = [...hybrid].map((c) => c === '1');
  return {
    id,
    category: 'fact',
    paraphrase,
    source: 'apt.html',
    relevantCount: 1,
    relevance: 'all-strings',
    search: {
      KEYWORD: { ranked: [false, true], ms: 1 },
      VECTOR: { ranked: [], ms: 1 },
      HYBRID: { ranked, ms: 1 },
    },
    ask: {
      contains,
      unanswered: false,
      citations: [{ quote: 'apt update', chunkText: 'Run apt update.' }],
      supportedCitations: 1,
      answer: 'Run apt update. [1]',
      timings: {},
      ms: 1,
    },
  };
};

const good = summarise([outcome('a', '1000000000'), outcome('b', '0100000000', true)]);

describe('report', () => {
  it('summarises each mode, hybrid by wording, and the answers', () => {
    expect(good.retrieval.HYBRID).toMatchObject({ questions: 2, hit1: 0.5, hit5: 1, mrr10: 0.75 });
    expect(good.retrieval.KEYWORD).toMatchObject({ hit1: 0, hit5: 1, mrr10: 0.5 });
    expect(good.retrieval.VECTOR).toMatchObject({ hit10: 0 });
    expect(good.hybridByWording.paraphrase).toMatchObject({ questions: 1, hit1: 0 });
    expect(good.ask).toMatchObject({ containment: 1, citationSupport: 1, citations: 2 });
    expect(formatTable(good)).toContain('| hybrid | 0.500 | 1.000 | 1.000 | 0.750 |');
  });

  it('passes a run as good as the baseline and fails one more than 0.02 below it, naming the figure', () => {
    const baseline = { createdAt: 'x', embeddings: 'use/512', summary: good };
    expect(checkAgainst(baseline, good, 'use/512')).toEqual([]);
    const worse = summarise([outcome('a', '0000010000'), outcome('b', '0100000000', true)]);
    expect(checkAgainst(baseline, worse, 'use/512')).toEqual([
      "hybrid hit@5 fell to 0.500 from the baseline's 1.000 (more than 0.02 below)",
      "hybrid MRR@10 fell to 0.333 from the baseline's 0.750 (more than 0.02 below)",
    ]);
  });

  it('fails a run with errors or another embedder', () => {
    const baseline = { createdAt: 'x', embeddings: 'use/512', summary: good };
    const broken = outcome('a', '1000000000');
    const withError = summarise([
      { ...broken, search: { ...broken.search, VECTOR: { ranked: [], ms: 1, error: 'INTERNAL' } } },
      outcome('b', '0100000000', true),
    ]);
    expect(checkAgainst(baseline, withError, 'hashed/512')).toEqual([
      expect.stringMatching(
        /^the baseline was measured with embeddings "use\/512", this run used "hashed\/512"/,
      ),
      '1 search or ask operations answered with an error',
    ]);
  });
});
