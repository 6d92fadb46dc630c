/** What `npm run eval -- --runs` and `--compare <base> <other>` print (ADR 0039). */
import type { EvalRunComparison } from '../../subgraphs/audit/src/observability/eval-compare.ts';
import type { EvalRunView } from '../../subgraphs/audit/src/observability/eval-run-store.ts';

const f = (x: number | null) => (x === null ? '–' : Number.isInteger(x) ? String(x) : x.toFixed(3));
const signed = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : ''}${f(x)}`);
const hybrid = (run: EvalRunView) => run.metrics.methods.find((m) => m.method === 'HYBRID');
const commit = (run: EvalRunView) => `${run.commit?.slice(0, 10) ?? 'no commit'}${run.dirty ? '+dirty' : ''}`;
const cell = (text: string, max = 60) => {
  const flat = text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** One line per stored run, newest first. */
export function formatRunList(runs: readonly EvalRunView[]): string {
  return [
    '| run | started | commit | questions | embedder | answerer | prompt | hybrid hit@5 | MRR@10 | containment | check |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map((run) => {
      const h = hybrid(run);
      const c = run.config;
      return `| ${run.id} | ${run.startedAt.toISOString()} | ${commit(run)} | ${run.questionCount} | ${c.embedder}/${c.embedderDimensions} | ${c.answerer}${c.answererModel ? `/${c.answererModel}` : ''} | ${c.promptName} v${c.promptVersion} | ${f(h?.hit5 ?? null)} | ${f(h?.mrr10 ?? null)} | ${f(run.metrics.containment)} | ${run.checkPassed === null ? '–' : run.checkPassed ? 'passed' : 'FAILED'} |`;
    }),
  ].join('\n');
}

/** Figures shown by default (`all` shows every stored figure). */
const SHOWN =
  /^(retrieval\.[A-Z]+\.(hit1|hit5|hit10|mrr10|ndcg10)|ask\.(containment|citationSupport|unanswered)|errors|seconds\.total)$/;

/** The comparison: configuration changes, figure deltas, then each question, worst regressions first. */
export function formatComparison(c: EvalRunComparison, options: { all?: boolean } = {}): string {
  const lines = [
    `base  ${c.base.id} (${c.base.startedAt.toISOString()}, ${commit(c.base)}, ${c.base.questionCount} questions)`,
    `other ${c.other.id} (${c.other.startedAt.toISOString()}, ${commit(c.other)}, ${c.other.questionCount} questions)`,
    c.sameDataset
      ? 'same dataset (equal hash)'
      : 'DIFFERENT DATASETS: the figures are not like for like; compare the questions both asked',
    '',
    c.configChanges.length ? 'configuration changes:' : 'configuration: identical',
    ...c.configChanges.map((change) => `  ${change}`),
    '',
    '| figure | base | other | delta |',
    '|---|---|---|---|',
    ...c.metrics
      .filter((m) => options.all || SHOWN.test(m.name))
      .map((m) => `| ${m.name} | ${f(m.base)} | ${f(m.other)} | ${signed(m.delta)} |`),
    '',
    `questions: ${c.worse} worse, ${c.better} better, ${c.unchanged} unchanged` +
      (c.questions.length - c.worse - c.better - c.unchanged
        ? `, ${c.questions.length - c.worse - c.better - c.unchanged} in one run only`
        : ''),
    '',
    '| change | question | hybrid rank | pass | score Δ | answer (other) |',
    '|---|---|---|---|---|---|',
    ...c.questions
      .filter((q) => options.all || q.change !== 'UNCHANGED')
      .map((q) => {
        const rank = (r: typeof q.base) => (r ? (r.hybridRank === null ? '–' : String(r.hybridRank)) : 'n/a');
        const pass = (r: typeof q.base) => (r ? (r.pass ? 'yes' : 'no') : 'n/a');
        return `| ${q.change} | ${q.questionId} | ${rank(q.base)} → ${rank(q.other)} | ${pass(q.base)} → ${pass(q.other)} | ${signed(q.scoreDelta)} | ${cell(q.other?.answer ?? '')} |`;
      }),
  ];
  if (!options.all && c.unchanged)
    lines.push('', `(${c.unchanged} unchanged questions not shown; --all shows them)`);
  return lines.join('\n');
}
