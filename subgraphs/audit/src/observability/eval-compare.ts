// Two evaluation runs side by side (ADR 0039): what changed in their configuration, every figure's
// delta, and each question's change, worst regressions first. Pure: the caller loads both runs.
import type { EvalResultView, EvalRunView } from './eval-run-store.ts';

/** How a question fared in the other run. */
export type EvalChange = 'WORSE' | 'BETTER' | 'UNCHANGED' | 'ONLY_BASE' | 'ONLY_OTHER';

/** One figure of both runs. */
export interface MetricDelta {
  name: string;
  base: number | null;
  other: number | null;
  delta: number | null;
}

/** One question in both runs. */
export interface QuestionComparison {
  questionId: string;
  question: string;
  change: EvalChange;
  scoreDelta: number;
  answerChanged: boolean;
  base: EvalResultView | null;
  other: EvalResultView | null;
}

/** The comparison of `other` with `base`. */
export interface EvalRunComparison {
  base: EvalRunView;
  other: EvalRunView;
  configChanges: string[];
  sameDataset: boolean;
  metrics: MetricDelta[];
  questions: QuestionComparison[];
  better: number;
  worse: number;
  unchanged: number;
}

/** Deltas smaller than this are rounding noise, not a change. */
const EPSILON = 1e-9;
/** Depth the rank counts to (as MRR@10). */
const CUTOFF = 10;

/**
 * A question's score in one run: 1 when its answer passed, plus 1 / the hybrid rank of its first
 * relevant passage (0 past 10). A lost pass outweighs any rank change; among ranks the top ones weigh most.
 */
export function questionScore(result: EvalResultView): number {
  const rank = result.hybridRank;
  return (result.pass ? 1 : 0) + (rank !== null && rank <= CUTOFF ? 1 / rank : 0);
}

/** Every numeric leaf of a metrics object, by dotted path (`retrieval.HYBRID.hit5`). */
export function numericLeaves(
  value: unknown,
  prefix = '',
  out = new Map<string, number>(),
): Map<string, number> {
  if (typeof value === 'number' && Number.isFinite(value)) out.set(prefix, value);
  else if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value))
      numericLeaves(child, prefix ? `${prefix}.${key}` : key, out);
  }
  return out;
}

/** Figures shown first, in this order (the rest follow by name). */
const HEADLINE = [
  'retrieval.HYBRID.hit1',
  'retrieval.HYBRID.hit5',
  'retrieval.HYBRID.hit10',
  'retrieval.HYBRID.mrr10',
  'retrieval.HYBRID.ndcg10',
  'ask.containment',
  'ask.citationSupport',
  'ask.unanswered',
  'errors',
];

/** Per-figure deltas of two metrics objects: the headline figures first, durations last. */
export function metricDeltas(base: Record<string, unknown>, other: Record<string, unknown>): MetricDelta[] {
  const a = numericLeaves(base);
  const b = numericLeaves(other);
  const rankOf = (name: string) => {
    const at = HEADLINE.indexOf(name);
    return at >= 0 ? at : name.startsWith('seconds.') ? 2000 : 1000;
  };
  return [...new Set([...a.keys(), ...b.keys()])]
    .sort((x, y) => rankOf(x) - rankOf(y) || (x < y ? -1 : x > y ? 1 : 0))
    .map((name) => {
      const was = a.get(name) ?? null;
      const now = b.get(name) ?? null;
      return { name, base: was, other: now, delta: was === null || now === null ? null : now - was };
    });
}

/** Configuration items that differ between the runs, as `name: base → other`. */
export function configChanges(base: EvalRunView, other: EvalRunView): string[] {
  const show = (v: unknown) =>
    v === null || v === undefined ? '–' : typeof v === 'string' ? v : JSON.stringify(v);
  const changes: string[] = [];
  const add = (name: string, was: unknown, now: unknown) => {
    if (show(was) !== show(now)) changes.push(`${name}: ${show(was)} → ${show(now)}`);
  };
  add('commit', base.commit, other.commit);
  add('dirty', base.dirty, other.dirty);
  const a = base.config.raw;
  const b = other.config.raw;
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (key === 'dataset') {
      const da = (a.dataset ?? {}) as Record<string, unknown>;
      const db = (b.dataset ?? {}) as Record<string, unknown>;
      for (const k of ['name', 'hash', 'questions', 'only']) add(`dataset.${k}`, da[k], db[k]);
    } else add(key, a[key], b[key]);
  }
  return changes;
}

const ORDER: Record<EvalChange, number> = { WORSE: 0, ONLY_BASE: 1, ONLY_OTHER: 2, BETTER: 3, UNCHANGED: 4 };

/** Compares `other` with `base`, question by question (the results of both must be loaded). */
export function compareRuns(
  base: EvalRunView,
  baseResults: readonly EvalResultView[],
  other: EvalRunView,
  otherResults: readonly EvalResultView[],
): EvalRunComparison {
  const was = new Map(baseResults.map((r) => [r.questionId, r]));
  const now = new Map(otherResults.map((r) => [r.questionId, r]));
  const questions: QuestionComparison[] = [];
  for (const id of new Set([...was.keys(), ...now.keys()])) {
    const a = was.get(id) ?? null;
    const b = now.get(id) ?? null;
    const scoreDelta = a && b ? questionScore(b) - questionScore(a) : 0;
    const change: EvalChange = !b
      ? 'ONLY_BASE'
      : !a
        ? 'ONLY_OTHER'
        : scoreDelta < -EPSILON
          ? 'WORSE'
          : scoreDelta > EPSILON
            ? 'BETTER'
            : 'UNCHANGED';
    questions.push({
      questionId: id,
      question: (b ?? a)!.question,
      change,
      scoreDelta,
      answerChanged: !!a && !!b && a.answer !== b.answer,
      base: a,
      other: b,
    });
  }
  questions.sort(
    (x, y) =>
      ORDER[x.change] - ORDER[y.change] ||
      (x.change === 'BETTER' ? y.scoreDelta - x.scoreDelta : x.scoreDelta - y.scoreDelta) ||
      (x.questionId < y.questionId ? -1 : x.questionId > y.questionId ? 1 : 0),
  );
  const count = (c: EvalChange) => questions.filter((q) => q.change === c).length;
  return {
    base,
    other,
    configChanges: configChanges(base, other),
    sameDataset: base.config.datasetHash !== '' && base.config.datasetHash === other.config.datasetHash,
    metrics: metricDeltas(base.metrics.raw, other.metrics.raw),
    questions,
    better: count('BETTER'),
    worse: count('WORSE'),
    unchanged: count('UNCHANGED'),
  };
}
