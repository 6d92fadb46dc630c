// evalRuns, evalRun and compareEvalRuns answer from the runs `npm run eval` stores (eval/src/run-store.ts),
// for Auditors and Admins of the run's tenant only; a comparison lists every question, worst regressions first.
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import type { ItemOutcome } from '../../../eval/src/evaluate.ts';
import type { GoldenItem } from '../../../eval/src/golden.ts';
import { summarise } from '../../../eval/src/report.ts';
import {
  datasetHash,
  type EvalRunRecord,
  questionResults,
  runConfig,
  runRecord,
} from '../../../eval/src/run-record.ts';
import { insertEvalRun, saveEvalRun } from '../../../eval/src/run-store.ts';
import { loadKnowledgeConfig } from '../../knowledge/src/config.ts';
import { auditSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let audit: SubgraphHarness;
type Who = Awaited<ReturnType<SubgraphHarness['identity']>>;
let auditor: Who;
let reader: Who;
let stranger: Who;
let base: EvalRunRecord;
let other: EvalRunRecord;
let third: EvalRunRecord;

const item = (id: string, mustContain: string[]): GoldenItem => ({
  id,
  question: `What does the handbook say about ${id}?`,
  source: `${id}.html`,
  mustContain,
  category: 'fact',
});

/** An outcome whose hybrid search found the first relevant passage at `rank` (null: not in the first 10). */
function outcome(of: GoldenItem, rank: number | null, answer: string): ItemOutcome {
  const ranked = Array.from({ length: 10 }, (_, i) => rank !== null && i === rank - 1);
  const search = { ranked, ms: 3 };
  return {
    id: of.id,
    category: of.category,
    paraphrase: false,
    source: of.source,
    relevantCount: 1,
    relevance: 'all-strings',
    search: { KEYWORD: search, VECTOR: { ranked: [], ms: 2 }, HYBRID: search },
    ask: {
      contains: of.mustContain.every((s) => answer.includes(s)),
      unanswered: answer === '',
      citations: answer ? [{ quote: answer, chunkText: answer }] : [],
      supportedCitations: answer ? 1 : 0,
      answer,
      timings: {},
      ms: 12,
    },
  } as ItemOutcome;
}

function record(
  items: GoldenItem[],
  outcomes: ItemOutcome[],
  at: string,
  commit: string,
  sources = 4,
): EvalRunRecord {
  const knowledge = loadKnowledgeConfig({});
  const config = { ...knowledge, answer: { ...knowledge.answer, sources } };
  return runRecord({
    startedAt: new Date(at),
    finishedAt: new Date(new Date(at).getTime() + 60_000),
    commit,
    dirty: false,
    config: runConfig(
      config,
      { name: 'golden', hash: datasetHash(items), questions: items.length, only: null },
      { dir: '/corpus', pages: 5, chunks: 20 },
      'DATABASE_URL',
    ),
    metrics: {
      ...summarise(outcomes),
      seconds: { ingest: 1, questions: 2, total: 3 },
      check: null,
    },
    results: questionResults(items, outcomes),
  });
}

const RUNS = `query ($first: Int, $after: String) { evalRuns(first: $first, after: $after) {
  edges { cursor node { id commit dirty questionCount checkPassed startedAt
    config { embedder embedderDimensions answerer answererModel reranker promptName promptVersion datasetName datasetHash questionCount json }
    metrics { methods { method hit1 hit5 mrr10 } containment citationSupport unanswered errors json } } }
  pageInfo { hasNextPage endCursor } } }`;
const RUN = `query ($id: ID!) { evalRun(id: $id) { id questionCount results {
  questionId question expected found missing pass answer hybridRank latencyMs citations supportedCitations
  ranks { method rank relevantReturned error } } } }`;
const COMPARE = `query ($base: ID!, $other: ID!) { compareEvalRuns(base: $base, other: $other) {
  base { id } other { id } configChanges sameDataset better worse unchanged
  metrics { name base other delta }
  questions { questionId change scoreDelta answerChanged base { hybridRank pass answer } other { hybridRank pass answer } } } }`;

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
  auditor = await audit.identity('eval', 'audrey', ['Auditor']);
  reader = await audit.identity('eval', 'rita', ['Reader']);
  stranger = await audit.identity('umbrella', 'mallory', ['Admin']);
  const [q1, q2, q3, q4, q5] = [
    item('q1', ['apt update']),
    item('q2', ['dpkg -i']),
    item('q3', ['/etc/fstab']),
    item('q4', ['10-16 MB']),
    item('q5', ['systemctl']),
  ] as [GoldenItem, GoldenItem, GoldenItem, GoldenItem, GoldenItem];
  base = record(
    [q1, q2, q3, q4],
    [
      outcome(q1, 1, 'Run apt update first.'),
      outcome(q2, 3, 'Use dpkg -i file.deb.'),
      outcome(q3, null, ''),
      outcome(q4, 2, 'About 10 MB.'),
    ],
    '2026-12-01T10:00:00.000Z',
    'a'.repeat(40),
  );
  other = record(
    [q1, q2, q3, q4, q5],
    [
      outcome(q1, null, 'The documents do not say.'),
      outcome(q2, 1, 'Use dpkg -i file.deb.'),
      outcome(q3, null, ''),
      outcome(q4, 5, 'About 10 MB or so.'),
      outcome(q5, null, ''),
    ],
    '2026-12-02T10:00:00.000Z',
    'b'.repeat(40),
    6,
  );
  third = record([q1], [outcome(q1, 1, 'Run apt update first.')], '2026-12-03T10:00:00.000Z', 'c'.repeat(40));
  for (const run of [base, other, third]) await saveEvalRun(audit.orm, auditor.tenantId, run);
});
afterAll(async () => {
  await audit?.close();
  await db?.close();
});

describe('evalRuns', () => {
  it('lists the tenant’s runs newest first with commit, configuration and figures, in pages', async () => {
    const first = await audit.execute(auditor, RUNS, { first: 2 });
    expect(first.errors).toBeUndefined();
    const page = first.data!.evalRuns as {
      edges: {
        node: Record<string, unknown> & { config: Record<string, unknown>; metrics: Record<string, unknown> };
      }[];
      pageInfo: { hasNextPage: boolean; endCursor: string };
    };
    expect(page.edges.map((e) => e.node.id)).toEqual([third.id, other.id]);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const newest = page.edges[1]!.node;
    expect(newest).toMatchObject({
      commit: 'b'.repeat(40),
      dirty: false,
      questionCount: 5,
      checkPassed: null,
      startedAt: '2026-12-02T10:00:00.000Z',
      config: {
        embedder: loadKnowledgeConfig({}).embeddings.provider,
        answerer: 'widgetdc.extractive',
        answererModel: null,
        promptName: 'knowledge.answer',
        promptVersion: 0,
        datasetName: 'golden',
        datasetHash: other.config.dataset.hash,
        questionCount: 5,
      },
      metrics: { containment: 0.2, errors: 0, citationSupport: 1 },
    });
    expect(JSON.parse(newest.config.json as string).answerer.sources).toBe(6);
    const hybrid = (newest.metrics.methods as { method: string; hit5: number }[]).find(
      (m) => m.method === 'HYBRID',
    );
    expect(hybrid?.hit5).toBeCloseTo(0.4);
    expect(JSON.parse(newest.metrics.json as string).seconds).toEqual({ ingest: 1, questions: 2, total: 3 });
    const rest = await audit.execute(auditor, RUNS, { first: 2, after: page.pageInfo.endCursor });
    expect(
      (rest.data!.evalRuns as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id),
    ).toEqual([base.id]);
  });

  it('returns one run with every question’s ranks, answer and the expected strings found or missing', async () => {
    const res = await audit.execute(auditor, RUN, { id: base.id });
    expect(res.errors).toBeUndefined();
    const run = res.data!.evalRun as { results: Record<string, unknown>[] };
    expect(run.results.map((r) => r.questionId)).toEqual(['q1', 'q2', 'q3', 'q4']);
    expect(run.results[0]).toMatchObject({
      question: 'What does the handbook say about q1?',
      expected: ['apt update'],
      found: ['apt update'],
      missing: [],
      pass: true,
      hybridRank: 1,
      answer: 'Run apt update first.',
      latencyMs: 12,
      citations: 1,
      supportedCitations: 1,
      ranks: [
        { method: 'KEYWORD', rank: 1, relevantReturned: 1, error: null },
        { method: 'VECTOR', rank: null, relevantReturned: 0, error: null },
        { method: 'HYBRID', rank: 1, relevantReturned: 1, error: null },
      ],
    });
    expect(run.results[3]).toMatchObject({ pass: false, found: [], missing: ['10-16 MB'], hybridRank: 2 });
  });

  it('compares two runs question by question, worst regressions first, with every figure’s delta', async () => {
    const res = await audit.execute(auditor, COMPARE, { base: base.id, other: other.id });
    expect(res.errors).toBeUndefined();
    const c = res.data!.compareEvalRuns as {
      configChanges: string[];
      metrics: { name: string; base: number | null; other: number | null; delta: number | null }[];
      questions: { questionId: string; change: string; scoreDelta: number; answerChanged: boolean }[];
    } & Record<string, unknown>;
    expect(c).toMatchObject({
      base: { id: base.id },
      other: { id: other.id },
      sameDataset: false,
      better: 1,
      worse: 2,
      unchanged: 1,
    });
    expect(c.questions.map((q) => [q.questionId, q.change])).toEqual([
      ['q1', 'WORSE'],
      ['q4', 'WORSE'],
      ['q5', 'ONLY_OTHER'],
      ['q2', 'BETTER'],
      ['q3', 'UNCHANGED'],
    ]);
    expect(c.questions[0]).toMatchObject({
      scoreDelta: -2,
      answerChanged: true,
      base: { hybridRank: 1, pass: true },
      other: { hybridRank: null, pass: false, answer: 'The documents do not say.' },
    });
    expect(c.questions[1]!.scoreDelta).toBeCloseTo(1 / 5 - 1 / 2);
    expect(c.questions[3]!.scoreDelta).toBeCloseTo(1 - 1 / 3);
    expect(c.questions[4]!.answerChanged).toBe(false);
    const hit5 = c.metrics.find((m) => m.name === 'retrieval.HYBRID.hit5')!;
    expect(hit5.base).toBeCloseTo(0.75);
    expect(hit5.other).toBeCloseTo(0.4);
    expect(hit5.delta).toBeCloseTo(-0.35);
    expect(c.metrics[0]!.name).toBe('retrieval.HYBRID.hit1');
    expect(c.configChanges).toEqual(
      expect.arrayContaining([
        `commit: ${'a'.repeat(40)} → ${'b'.repeat(40)}`,
        `dataset.hash: ${base.config.dataset.hash} → ${other.config.dataset.hash}`,
        'dataset.questions: 4 → 5',
      ]),
    );
    expect(
      c.configChanges.some((change) => change.startsWith('answerer: ') && change.includes('"sources":6')),
    ).toBe(true);
  });
});

describe('a full-size run', () => {
  it('stores and returns every question of a run larger than one insert statement, in the order asked', async () => {
    const items = Array.from({ length: 132 }, (_, i) =>
      item(`big-${String(i).padStart(3, '0')}`, ['apt update']),
    );
    const long = `apt update ${'x'.repeat(20_000)}`;
    const big = record(
      items,
      items.map((it, i) => outcome(it, i % 11 === 0 ? null : (i % 10) + 1, i % 2 ? long : '')),
      '2026-11-01T10:00:00.000Z',
      'd'.repeat(40),
    );
    const other = await audit.identity('globex', 'gil', ['Admin']);
    await saveEvalRun(audit.orm, other.tenantId, big);
    const res = await audit.execute(other, RUN, { id: big.id });
    expect(res.errors).toBeUndefined();
    const results = res.data!.evalRun as {
      questionCount: number;
      results: { questionId: string; answer: string; pass: boolean }[];
    };
    expect(results.questionCount).toBe(132);
    expect(results.results.map((r) => r.questionId)).toEqual(items.map((it) => it.id));
    expect(results.results[1]).toMatchObject({ answer: long, pass: true });
    expect(results.results[0]).toMatchObject({ answer: '', pass: false });
  });
});

describe('evalRuns access', () => {
  it('shows another tenant nothing: an empty list, null for the id, NOT_FOUND for a comparison', async () => {
    const list = await audit.execute(stranger, RUNS, {});
    expect(list.errors).toBeUndefined();
    expect((list.data!.evalRuns as { edges: unknown[] }).edges).toEqual([]);
    const one = await audit.execute(stranger, RUN, { id: base.id });
    expect(one.errors).toBeUndefined();
    expect(one.data!.evalRun).toBeNull();
    const compared = await audit.execute(stranger, COMPARE, { base: base.id, other: other.id });
    expect(compared.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(compared.errors?.[0]?.message).toMatch(/^base: no evaluation run .* in your tenant/);
    const rows = await withTenant(audit.orm, stranger.tenantId, (em) =>
      em.execute<{ n: number }[]>('select count(*)::int as n from observability.eval_results'),
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('refuses callers without Auditor or Admin', async () => {
    for (const query of [RUNS, RUN, COMPARE]) {
      const res = await audit.execute(reader, query, { id: base.id, base: base.id, other: other.id });
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('answers malformed and unknown ids with clear client errors', async () => {
    const bad = await audit.execute(auditor, RUN, { id: 'run-1' });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/id must be an evaluation run id \(a UUID/);
    const badOther = await audit.execute(auditor, COMPARE, { base: base.id, other: 'latest' });
    expect(badOther.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(badOther.errors?.[0]?.message).toMatch(/^other must be/);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await audit.execute(auditor, COMPARE, { base: base.id, other: unknown });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(missing.errors?.[0]?.message).toBe(
      `other: no evaluation run ${unknown} in your tenant (evalRuns lists them)`,
    );
    const none = await audit.execute(auditor, RUN, { id: unknown });
    expect(none.errors).toBeUndefined();
    expect(none.data!.evalRun).toBeNull();
    const cursor = await audit.execute(auditor, RUNS, { after: 'nonsense!' });
    expect(cursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses to store a run in another tenant than the transaction’s', async () => {
    const forged = { ...third, id: '11111111-1111-4111-8111-111111111111' };
    await expect(
      withTenant(audit.orm, stranger.tenantId, (em) => insertEvalRun(em, auditor.tenantId, forged)),
    ).rejects.toThrow(/row-level security/);
  });

  it('keeps stored runs immutable for the application role', async () => {
    for (const sql of [
      'update observability.eval_runs set dirty = true',
      'delete from observability.eval_results',
      'delete from observability.eval_runs',
    ]) {
      await expect(withTenant(audit.orm, auditor.tenantId, (em) => em.execute(sql))).rejects.toThrow(
        /permission denied/,
      );
    }
  });
});
