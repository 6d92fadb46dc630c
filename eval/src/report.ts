/** The evaluation's figures: per-mode retrieval and answer scores, the printed table, the baseline check. */
import type { ItemOutcome, Mode } from './evaluate.ts';
import { MODES } from './evaluate.ts';
import { type AnswerScores, answerScores, type RetrievalScores, retrievalScores } from './metrics.ts';

/** How far hybrid hit@5 or MRR@10 may fall below the baseline before `--check` fails. */
export const TOLERANCE = 0.02;

/** The figures of one run (what `eval/baseline.json` and every `eval/runs/*.json` hold at the top). */
export interface Summary {
  readonly questions: number;
  readonly retrieval: Record<Mode, RetrievalScores>;
  /** Hybrid figures of the paraphrase questions and of the others. */
  readonly hybridByWording: { paraphrase: RetrievalScores; literal: RetrievalScores };
  readonly ask: AnswerScores;
  /** Operations that answered with an error instead of a result. */
  readonly errors: number;
}

/** Computes the summary of `outcomes`. */
export function summarise(outcomes: readonly ItemOutcome[]): Summary {
  const judged = (mode: Mode, list: readonly ItemOutcome[]) =>
    retrievalScores(list.map((o) => ({ ranked: o.search[mode].ranked, relevantCount: o.relevantCount })));
  const retrieval = Object.fromEntries(MODES.map((m) => [m, judged(m, outcomes)])) as Record<
    Mode,
    RetrievalScores
  >;
  return {
    questions: outcomes.length,
    retrieval,
    hybridByWording: {
      paraphrase: judged(
        'HYBRID',
        outcomes.filter((o) => o.paraphrase),
      ),
      literal: judged(
        'HYBRID',
        outcomes.filter((o) => !o.paraphrase),
      ),
    },
    ask: answerScores(
      outcomes.map((o) => ({
        contains: o.ask.contains,
        unanswered: o.ask.unanswered,
        citations: o.ask.citations,
      })),
    ),
    errors: outcomes.reduce(
      (n, o) => n + MODES.filter((m) => o.search[m].error).length + (o.ask.error ? 1 : 0),
      0,
    ),
  };
}

const f = (x: number | null) => (x === null ? '   –' : x.toFixed(3));

/** The side-by-side table the run prints. */
export function formatTable(summary: Summary): string {
  const rows = [
    `| retrieval (${summary.questions} questions) | hit@1 | hit@5 | hit@10 | MRR@10 | nDCG@10 |`,
    '|---|---|---|---|---|---|',
    ...MODES.map((mode) => {
      const r = summary.retrieval[mode];
      return `| ${mode.toLowerCase()} | ${f(r.hit1)} | ${f(r.hit5)} | ${f(r.hit10)} | ${f(r.mrr10)} | ${f(r.ndcg10)} |`;
    }),
    ...(['paraphrase', 'literal'] as const).map((k) => {
      const r = summary.hybridByWording[k];
      return `| hybrid, ${k} (${r.questions}) | ${f(r.hit1)} | ${f(r.hit5)} | ${f(r.hit10)} | ${f(r.mrr10)} | ${f(r.ndcg10)} |`;
    }),
    '',
    '| ask | containment | citation support | citations | unanswered |',
    '|---|---|---|---|---|',
    `| offline answerer | ${f(summary.ask.containment)} | ${f(summary.ask.citationSupport)} | ${summary.ask.citations} | ${f(summary.ask.unanswered)} |`,
  ];
  return rows.join('\n');
}

/** What `eval/baseline.json` holds. */
export interface Baseline {
  readonly createdAt: string;
  readonly embeddings: string;
  readonly summary: Summary;
}

/** Problems that fail `--check`: hybrid hit@5 or MRR@10 more than {@link TOLERANCE} below the baseline, errors, another embedder. */
export function checkAgainst(baseline: Baseline, summary: Summary, embeddings: string): string[] {
  const problems: string[] = [];
  if (baseline.embeddings !== embeddings) {
    problems.push(
      `the baseline was measured with embeddings "${baseline.embeddings}", this run used "${embeddings}"; compare like with like (EMBEDDINGS_PROVIDER)`,
    );
  }
  const was = baseline.summary.retrieval.HYBRID;
  const now = summary.retrieval.HYBRID;
  for (const [name, key] of [
    ['hit@5', 'hit5'],
    ['MRR@10', 'mrr10'],
  ] as const) {
    if (now[key] < was[key] - TOLERANCE) {
      problems.push(
        `hybrid ${name} fell to ${now[key].toFixed(3)} from the baseline's ${was[key].toFixed(3)} (more than ${TOLERANCE} below)`,
      );
    }
  }
  if (summary.errors > 0) problems.push(`${summary.errors} search or ask operations answered with an error`);
  return problems;
}
