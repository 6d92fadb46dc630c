// The comparison's pure parts: figure deltas in a stable order, question scores, and the printed table.
import {
  compareRuns,
  metricDeltas,
  questionScore,
} from '../../subgraphs/audit/src/observability/eval-compare.ts';
import type { EvalResultView, EvalRunView } from '../../subgraphs/audit/src/observability/eval-run-store.ts';
import { formatComparison } from '../src/compare-report.ts';

const result = (
  questionId: string,
  hybridRank: number | null,
  pass: boolean,
  answer = 'a',
): EvalResultView => ({
  questionId,
  question: `${questionId}?`,
  source: 's.html',
  category: 'fact',
  paraphrase: false,
  expected: ['x'],
  relevantCount: 1,
  ranks: [{ method: 'HYBRID', rank: hybridRank, relevantReturned: hybridRank ? 1 : 0, error: null }],
  hybridRank,
  answer,
  found: pass ? ['x'] : [],
  missing: pass ? [] : ['x'],
  pass,
  unanswered: false,
  citations: 0,
  supportedCitations: 0,
  latencyMs: 1,
  error: null,
});

const run = (id: string, hash: string, metrics: Record<string, unknown>): EvalRunView => ({
  id,
  startedAt: new Date('2026-12-01T00:00:00.000Z'),
  finishedAt: new Date('2026-12-01T00:01:00.000Z'),
  commit: null,
  dirty: false,
  questionCount: 2,
  checkPassed: null,
  config: {
    embedder: 'use',
    embedderModel: null,
    embedderDimensions: 512,
    answerer: 'widgetdc.extractive',
    answererModel: null,
    reranker: 'lexical',
    promptName: 'knowledge.answer',
    promptVersion: 0,
    datasetName: 'golden',
    datasetHash: hash,
    questionCount: 2,
    json: '{}',
    raw: { dataset: { hash } },
  },
  metrics: {
    methods: [],
    containment: 0,
    citationSupport: null,
    unanswered: 0,
    errors: 0,
    json: '{}',
    raw: metrics,
  },
});

describe('eval run comparison', () => {
  it('scores a pass above any rank and counts ranks past 10 as nothing', () => {
    expect(questionScore(result('a', 1, false))).toBe(1);
    expect(questionScore(result('a', null, true))).toBe(1);
    expect(questionScore(result('a', 4, true))).toBe(1.25);
    expect(questionScore(result('a', 11, false))).toBe(0);
  });

  it('lists headline figures first, durations last, and a figure only one run has without a delta', () => {
    const deltas = metricDeltas(
      { seconds: { total: 10 }, retrieval: { HYBRID: { hit5: 0.5, mrr10: 0.25 } }, extra: 1 },
      { seconds: { total: 8 }, retrieval: { HYBRID: { hit5: 0.75, mrr10: 0.25 } } },
    );
    expect(deltas).toEqual([
      { name: 'retrieval.HYBRID.hit5', base: 0.5, other: 0.75, delta: 0.25 },
      { name: 'retrieval.HYBRID.mrr10', base: 0.25, other: 0.25, delta: 0 },
      { name: 'extra', base: 1, other: null, delta: null },
      { name: 'seconds.total', base: 10, other: 8, delta: -2 },
    ]);
  });

  it('prints changed questions worst first and hides unchanged ones unless asked', () => {
    const base = run('11111111-1111-4111-8111-111111111111', 'h', { ask: { containment: 1 } });
    const other = run('22222222-2222-4222-8222-222222222222', 'h', { ask: { containment: 0.5 } });
    const c = compareRuns(
      base,
      [result('same', 2, true), result('lost', 1, true), result('won', null, false)],
      other,
      [result('same', 2, true, 'other words'), result('lost', 3, false), result('won', 2, false)],
    );
    expect(c.questions.map((q) => [q.questionId, q.change])).toEqual([
      ['lost', 'WORSE'],
      ['won', 'BETTER'],
      ['same', 'UNCHANGED'],
    ]);
    expect(c.questions[2]!.answerChanged).toBe(true);
    expect(c.sameDataset).toBe(true);
    const text = formatComparison(c);
    expect(text).toContain('same dataset (equal hash)');
    expect(text).toContain('configuration: identical');
    expect(text).toContain('| ask.containment | 1 | 0.500 | -0.500 |');
    expect(text).toContain('questions: 1 worse, 1 better, 1 unchanged');
    expect(text.indexOf('| WORSE | lost | 1 → 3 | yes → no | -1.667 |')).toBeLessThan(
      text.indexOf('| BETTER | won | – → 2 | no → no | +0.500 |'),
    );
    expect(text).not.toContain('| UNCHANGED |');
    expect(text).toContain('(1 unchanged questions not shown; --all shows them)');
    expect(formatComparison(c, { all: true })).toContain(
      '| UNCHANGED | same | 2 → 2 | yes → yes | 0 | other words |',
    );
  });
});
