// Reads the tenant's stored evaluation runs (observability.eval_runs / eval_results, written by
// `npm run eval`, eval/src/run-store.ts); the tenant's transaction and row-level security decide what
// is visible. Rows come back in the shapes the GraphQL types have (ADR 0039).
import type { EntityManager } from '@mikro-orm/postgresql';
import { ValidationError } from '#kernel/errors.ts';
import type { Keyset, PageRequest } from '#kernel/graphql/connection.ts';
import { isUuid } from '#kernel/ids.ts';

/** The retrieval modes the evaluation stores, in display order. */
export const EVAL_METHODS = ['KEYWORD', 'VECTOR', 'HYBRID'] as const;
/** A retrieval mode. */
export type EvalMethod = (typeof EVAL_METHODS)[number];

/** A run's configuration as `EvalRunConfig`. */
export interface EvalRunConfigView {
  embedder: string;
  embedderModel: string | null;
  embedderDimensions: number;
  answerer: string;
  answererModel: string | null;
  reranker: string;
  promptName: string;
  promptVersion: number;
  datasetName: string;
  datasetHash: string;
  questionCount: number;
  json: string;
  /** The stored object. */
  raw: Record<string, unknown>;
}

/** A mode's figures as `EvalMethodMetrics`. */
export interface EvalMethodMetricsView {
  method: EvalMethod;
  hit1: number;
  hit5: number;
  hit10: number;
  mrr10: number;
  ndcg10: number;
}

/** A run's figures as `EvalRunMetrics`. */
export interface EvalRunMetricsView {
  methods: EvalMethodMetricsView[];
  containment: number;
  citationSupport: number | null;
  unanswered: number;
  errors: number;
  json: string;
  raw: Record<string, unknown>;
}

/** A stored run (its results load on demand). */
export interface EvalRunView {
  id: string;
  startedAt: Date;
  finishedAt: Date;
  commit: string | null;
  dirty: boolean;
  questionCount: number;
  checkPassed: boolean | null;
  config: EvalRunConfigView;
  metrics: EvalRunMetricsView;
  /** The results when already loaded. */
  loaded?: EvalResultView[];
}

/** A mode's rank of one question as `EvalRank`. */
export interface EvalRankView {
  method: EvalMethod;
  rank: number | null;
  relevantReturned: number;
  error: string | null;
}

/** One question's outcome as `EvalResult`. */
export interface EvalResultView {
  questionId: string;
  question: string;
  source: string;
  category: string;
  paraphrase: boolean;
  expected: string[];
  relevantCount: number;
  ranks: EvalRankView[];
  hybridRank: number | null;
  answer: string;
  found: string[];
  missing: string[];
  pass: boolean;
  unanswered: boolean;
  citations: number;
  supportedCitations: number;
  latencyMs: number;
  error: string | null;
}

/** An evaluation run id (a UUID), or BAD_USER_INPUT naming the argument. */
export function parseEvalRunId(id: string, argument = 'id'): string {
  const value = typeof id === 'string' ? id.trim().toLowerCase() : '';
  if (!isUuid(value)) {
    throw new ValidationError(
      `${argument} must be an evaluation run id (a UUID, as npm run eval prints and evalRuns lists; got "${String(id).slice(0, 100)}")`,
      { argument },
    );
  }
  return value;
}

interface RunRow {
  id: string;
  started_at: Date | string;
  finished_at: Date | string;
  commit: string | null;
  dirty: boolean;
  question_count: number;
  check_passed: boolean | null;
  config: Record<string, unknown> | string;
  metrics: Record<string, unknown> | string;
}

const RUN_COLUMNS =
  'id, started_at, finished_at, commit, dirty, question_count, check_passed, config, metrics';

const json = (value: Record<string, unknown> | string): Record<string, unknown> =>
  typeof value === 'string' ? (JSON.parse(value) as Record<string, unknown>) : value;
const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
const str = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : fallback);
const obj = (value: unknown): Record<string, unknown> =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

function configView(config: Record<string, unknown>): EvalRunConfigView {
  const embedder = obj(config.embedder);
  const answerer = obj(config.answerer);
  const prompt = obj(config.prompt);
  const dataset = obj(config.dataset);
  return {
    embedder: str(embedder.provider, 'unknown'),
    embedderModel: typeof embedder.model === 'string' ? embedder.model : null,
    embedderDimensions: num(embedder.dimensions),
    answerer: str(answerer.provider, 'unknown'),
    answererModel: typeof answerer.model === 'string' ? answerer.model : null,
    reranker: str(obj(config.reranker).name, 'none'),
    promptName: str(prompt.name, 'knowledge.answer'),
    promptVersion: num(prompt.version),
    datasetName: str(dataset.name),
    datasetHash: str(dataset.hash),
    questionCount: num(dataset.questions),
    json: JSON.stringify(config),
    raw: config,
  };
}

function metricsView(metrics: Record<string, unknown>): EvalRunMetricsView {
  const retrieval = obj(metrics.retrieval);
  const ask = obj(metrics.ask);
  return {
    methods: EVAL_METHODS.filter((m) => m in retrieval).map((method) => {
      const r = obj(retrieval[method]);
      return {
        method,
        hit1: num(r.hit1),
        hit5: num(r.hit5),
        hit10: num(r.hit10),
        mrr10: num(r.mrr10),
        ndcg10: num(r.ndcg10),
      };
    }),
    containment: num(ask.containment),
    citationSupport: typeof ask.citationSupport === 'number' ? ask.citationSupport : null,
    unanswered: num(ask.unanswered),
    errors: num(metrics.errors),
    json: JSON.stringify(metrics),
    raw: metrics,
  };
}

const toRun = (row: RunRow): EvalRunView => ({
  id: row.id,
  startedAt: new Date(row.started_at),
  finishedAt: new Date(row.finished_at),
  commit: row.commit,
  dirty: row.dirty,
  questionCount: row.question_count,
  checkPassed: row.check_passed,
  config: configView(json(row.config)),
  metrics: metricsView(json(row.metrics)),
});

/** The keyset of a run in (started desc, id desc) order. */
export const evalRunKey = (run: EvalRunView): Keyset => ({ at: run.startedAt, id: run.id });

/** Up to `page.first + 1` runs of the tenant, newest first. */
export async function listEvalRuns(em: EntityManager, page: PageRequest): Promise<EvalRunView[]> {
  const rows = await em.execute<RunRow[]>(
    `select ${RUN_COLUMNS} from observability.eval_runs
      ${page.after ? 'where (started_at, id) < (?, ?)' : ''}
      order by started_at desc, id desc limit ${page.first + 1}`,
    page.after ? [page.after.at, page.after.id] : [],
  );
  return rows.map(toRun);
}

/** One run of the tenant, or null. */
export async function findEvalRun(em: EntityManager, id: string): Promise<EvalRunView | null> {
  const [row] = await em.execute<RunRow[]>(
    `select ${RUN_COLUMNS} from observability.eval_runs where id = ?`,
    [id],
  );
  return row ? toRun(row) : null;
}

interface ResultRow {
  question_id: string;
  question: string;
  source: string;
  category: string;
  paraphrase: boolean;
  expected: string[] | string;
  relevant_count: number;
  ranks: Record<string, unknown> | string;
  answer: string;
  found: string[] | string;
  missing: string[] | string;
  pass: boolean;
  unanswered: boolean;
  citations: number;
  supported_citations: number;
  latency_ms: number | string;
  error: string | null;
}

const list = (value: string[] | string): string[] =>
  typeof value === 'string' ? (JSON.parse(value) as string[]) : value;

function toResult(row: ResultRow): EvalResultView {
  const stored = json(row.ranks);
  const ranks = EVAL_METHODS.filter((m) => m in stored).map((method) => {
    const r = obj(stored[method]);
    const ranked = Array.isArray(r.ranked) ? r.ranked : [];
    return {
      method,
      rank: typeof r.rank === 'number' ? r.rank : null,
      relevantReturned: ranked.filter((x) => x === true).length,
      error: typeof r.error === 'string' ? r.error : null,
    };
  });
  return {
    questionId: row.question_id,
    question: row.question,
    source: row.source,
    category: row.category,
    paraphrase: row.paraphrase,
    expected: list(row.expected),
    relevantCount: row.relevant_count,
    ranks,
    hybridRank: ranks.find((r) => r.method === 'HYBRID')?.rank ?? null,
    answer: row.answer,
    found: list(row.found),
    missing: list(row.missing),
    pass: row.pass,
    unanswered: row.unanswered,
    citations: row.citations,
    supportedCitations: row.supported_citations,
    latencyMs: Number(row.latency_ms),
    error: row.error,
  };
}

/** Every question's outcome of the run `runId`, in the order asked. */
export async function evalResults(em: EntityManager, runId: string): Promise<EvalResultView[]> {
  const rows = await em.execute<ResultRow[]>(
    `select question_id, question, source, category, paraphrase, expected, relevant_count, ranks, answer,
            found, missing, pass, unanswered, citations, supported_citations, latency_ms, error
       from observability.eval_results where run_id = ? order by position`,
    [runId],
  );
  return rows.map(toResult);
}
