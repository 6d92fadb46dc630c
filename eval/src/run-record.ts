/**
 * One evaluation run as an experiment (ADR 0039): when it ran, on which commit, with which
 * configuration (embedder, answerer, reranker, prompt, search settings, dataset and its hash), its
 * figures, and every question's outcome. `run-store.ts` writes it to observability.eval_runs and
 * observability.eval_results; the audit subgraph reads it back (`evalRuns`, `compareEvalRuns`).
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import type { KnowledgeConfig } from '../../subgraphs/knowledge/src/config.ts';
import { containsNormalised } from './corpus.ts';
import { type ItemOutcome, MODES, type Mode } from './evaluate.ts';
import type { GoldenItem } from './golden.ts';
import { CUTOFF } from './metrics.ts';
import type { Summary } from './report.ts';

/** The prompt the answerer renders; version 0 is the built-in one (until versioned prompts exist, ADR 0038). */
export const ANSWER_PROMPT = { name: 'knowledge.answer', version: 0 } as const;
/** Provider name of the offline extractive answerer (as its generation records name it). */
export const OFFLINE_ANSWERER = 'widgetdc.extractive';

/** What a run was measured with; two runs with different configurations are an experiment's two arms. */
export interface EvalRunConfig {
  readonly embedder: { provider: string; model: string | null; dimensions: number };
  readonly answerer: { provider: string; model: string | null; sources: number; minCoverage: number };
  readonly reranker: { name: string; depth: number };
  readonly prompt: { name: string; version: number };
  readonly search: {
    first: number;
    modes: readonly Mode[];
    rrfK: number;
    keywordWeight: number;
    vectorWeight: number;
    candidates: number;
    efSearch: number;
  };
  readonly chunking: { tokens: number; overlap: number };
  readonly dataset: { name: string; hash: string; questions: number; only: string[] | null };
  readonly corpus: { dir: string; pages: number; chunks: number };
  /** Where the data lived: the embedded cache folder, or DATABASE_URL. */
  readonly database: string;
}

/** The run's figures: the printed summary, durations and the `--check` verdict when it was one. */
export interface EvalRunMetrics extends Summary {
  readonly seconds: { ingest: number; questions: number; total: number };
  readonly check: { passed: boolean; problems: string[] } | null;
}

/** One retrieval mode's judgement of one question. */
export interface EvalRank {
  /** Rank (from 1) of the first relevant passage within the first 10, else null. */
  readonly rank: number | null;
  /** Relevance of each returned passage, in rank order. */
  readonly ranked: boolean[];
  readonly ms: number;
  readonly error: string | null;
}

/** One golden question's outcome in one run. */
export interface EvalQuestionResult {
  readonly questionId: string;
  readonly question: string;
  readonly source: string;
  readonly category: string;
  readonly paraphrase: boolean;
  /** The strings a correct answer contains. */
  readonly expected: string[];
  readonly relevantCount: number;
  readonly ranks: Record<Mode, EvalRank>;
  readonly answer: string;
  readonly found: string[];
  readonly missing: string[];
  /** The answer contains every expected string. */
  readonly pass: boolean;
  readonly unanswered: boolean;
  readonly citations: number;
  readonly supportedCitations: number;
  /** How long `ask` took, end to end. */
  readonly latencyMs: number;
  readonly error: string | null;
}

/** A whole run, ready to store. */
export interface EvalRunRecord {
  readonly id: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** The checked-out commit (null outside a git work tree). */
  readonly commit: string | null;
  /** The work tree had uncommitted changes: the commit alone does not say what ran. */
  readonly dirty: boolean;
  readonly checkPassed: boolean | null;
  readonly config: EvalRunConfig;
  readonly metrics: EvalRunMetrics;
  readonly results: EvalQuestionResult[];
}

/** The commit of the work tree at `root` and whether it has uncommitted changes (null/false without git). */
export function gitState(root: string): { commit: string | null; dirty: boolean } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return { commit: /^[0-9a-f]{7,64}$/.test(commit) ? commit : null, dirty };
  } catch {
    return { commit: null, dirty: false };
  }
}

/** SHA-256 over the questions as evaluated (sorted by id): equal hashes mean the same dataset. */
export function datasetHash(items: readonly GoldenItem[]): string {
  const hash = createHash('sha256');
  for (const item of [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    hash.update(
      JSON.stringify([
        item.id,
        item.question,
        item.source,
        item.mustContain,
        item.category,
        item.paraphrase === true,
      ]),
    );
    hash.update('\n');
  }
  return hash.digest('hex');
}

/** The stored configuration of a run on `config`. */
export function runConfig(
  config: KnowledgeConfig,
  dataset: EvalRunConfig['dataset'],
  corpus: EvalRunConfig['corpus'],
  database: string,
): EvalRunConfig {
  const llm = config.answer.llm;
  const answerModel =
    llm.provider === 'offline' ? null : llm.provider === 'azure' ? (llm.model ?? llm.deployment) : llm.model;
  const s = config.search;
  return {
    embedder: {
      provider: config.embeddings.provider,
      model: config.embeddings.model ?? null,
      dimensions: config.embeddings.dimensions,
    },
    answerer: {
      provider: llm.provider === 'offline' ? OFFLINE_ANSWERER : llm.provider,
      model: answerModel,
      sources: config.answer.sources,
      minCoverage: config.answer.minCoverage,
    },
    reranker: { name: s.reranker, depth: s.rerankDepth },
    prompt: { ...ANSWER_PROMPT },
    search: {
      first: CUTOFF,
      modes: MODES,
      rrfK: s.rrfK,
      keywordWeight: s.keywordWeight,
      vectorWeight: s.vectorWeight,
      candidates: s.candidates,
      efSearch: s.efSearch,
    },
    chunking: { tokens: config.chunkTokens, overlap: config.chunkOverlapTokens },
    dataset,
    corpus,
    database,
  };
}

/** Each question's stored outcome: ranks per mode, the answer, which expected strings it holds. */
export function questionResults(
  items: readonly GoldenItem[],
  outcomes: readonly ItemOutcome[],
): EvalQuestionResult[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  return outcomes.map((o) => {
    const item = byId.get(o.id);
    if (!item) throw new Error(`outcome ${o.id} names no evaluated question`);
    const found = item.mustContain.filter((s) => containsNormalised(o.ask.answer, s));
    const ranks = Object.fromEntries(
      MODES.map((m) => {
        const s = o.search[m];
        const at = s.ranked.slice(0, CUTOFF).indexOf(true);
        return [m, { rank: at < 0 ? null : at + 1, ranked: s.ranked, ms: s.ms, error: s.error ?? null }];
      }),
    ) as Record<Mode, EvalRank>;
    return {
      questionId: o.id,
      question: item.question,
      source: o.source,
      category: o.category,
      paraphrase: o.paraphrase,
      expected: [...item.mustContain],
      relevantCount: o.relevantCount,
      ranks,
      answer: o.ask.answer,
      found,
      missing: item.mustContain.filter((s) => !found.includes(s)),
      pass: o.ask.contains,
      unanswered: o.ask.unanswered,
      citations: o.ask.citations.length,
      supportedCitations: o.ask.supportedCitations,
      latencyMs: o.ask.ms,
      error: o.ask.error ?? (MODES.map((m) => o.search[m].error).find(Boolean) || null),
    };
  });
}

/** Assembles a run record with a fresh id. */
export function runRecord(input: Omit<EvalRunRecord, 'id' | 'checkPassed'>): EvalRunRecord {
  return { id: randomUUID(), ...input, checkPassed: input.metrics.check?.passed ?? null };
}
