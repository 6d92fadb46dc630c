// npm run eval [-- --check] [-- --write-baseline] [-- --only <id,id,…>] [-- --limit <n>] [-- --golden <dir>]
// npm run eval -- --runs [--limit <n>]            lists the stored runs, newest first
// npm run eval -- --compare [<base> <other>] [--all]  compares two stored runs (default: the two newest)
// Ingests the Debian handbook into the knowledge subgraph (cached between runs), asks every golden
// question with keyword, vector and hybrid search and with `ask`, prints the table, saves the run
// as eval/runs/<timestamp>.json and stores it (configuration, commit, figures, every question) in the
// evaluation tenant's observability.eval_runs (ADR 0039). --check fails (exit 1) when hybrid hit@5 or
// MRR@10 fell more than 0.02 below eval/baseline.json; --write-baseline makes this run the baseline.
// See ADR 0020.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '#kernel/errors.ts';
import { browseRuns } from './browse-runs.ts';
import { corpusPages, DEFAULT_CORPUS_DIR } from './corpus.ts';
import { evaluate, MODES, pageChunks } from './evaluate.ts';
import { GOLDEN_DIR, loadGolden } from './golden.ts';
import { ingestCorpus } from './ingest-corpus.ts';
import { startEvalPlatform } from './platform.ts';
import { type Baseline, checkAgainst, formatTable, summarise } from './report.ts';
import { datasetHash, gitState, questionResults, runConfig, runRecord } from './run-record.ts';
import { storeEvalRun } from './run-store.ts';

const BASELINE = new URL('../baseline.json', import.meta.url);
const RUNS = new URL('../runs/', import.meta.url);
const ROOT = join(import.meta.dirname, '..', '..');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    check: { type: 'boolean', default: false },
    'write-baseline': { type: 'boolean', default: false },
    only: { type: 'string' },
    limit: { type: 'string' },
    golden: { type: 'string' },
    corpus: { type: 'string', default: DEFAULT_CORPUS_DIR },
    runs: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
  },
});
const limit = values.limit === undefined ? undefined : Number(values.limit);
if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
  process.stderr.write(`--limit must be a whole number of questions, 1 or more (got "${values.limit}")\n`);
  process.exit(2);
}

if (values.runs || values.compare) {
  let code = 0;
  try {
    await browseRuns(
      values.compare
        ? { kind: 'compare', ids: positionals, all: values.all }
        : { kind: 'list', first: Math.min(limit ?? 20, 100) },
      (text) => process.stdout.write(`${text}\n`),
    );
  } catch (error) {
    code = 1;
    process.stderr.write(
      `eval: ${error instanceof AppError || error instanceof Error ? error.message : String(error)}\n`,
    );
  }
  process.exit(code);
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const tty = process.stderr.isTTY;
let lastProgress = 0;
/** A progress line: rewritten in place on a terminal, at most every 5 s otherwise. */
const progress = (line: string, final = false) => {
  if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
  else if (final || Date.now() - lastProgress > 5000) {
    process.stderr.write(`${line}\n`);
    lastProgress = Date.now();
  }
};

const started = Date.now();
const startedAt = new Date();
const goldenDir = values.golden ?? GOLDEN_DIR.pathname;
let items = loadGolden(goldenDir);
if (values.only) {
  const wanted = new Set(values.only.split(','));
  items = items.filter((item) => wanted.has(item.id));
  if (items.length === 0) throw new Error(`--only names no golden question (${values.only})`);
}
if (limit !== undefined) items = items.slice(0, limit);
const subset = values.only !== undefined || limit !== undefined;
const pages = corpusPages(values.corpus);
say(`eval: ${items.length} questions, ${pages.length} corpus pages from ${values.corpus}`);
const platform = await startEvalPlatform((line) => say(`  ${line}`));
let exitCode = 0;
try {
  const ingest = await ingestCorpus(platform.url, platform.token, pages, (line) => progress(line));
  progress(
    `ingest: ${ingest.pages.length} pages (${ingest.uploaded} sent, ${ingest.reused} already there), ` +
      `${ingest.chunks} chunks, ${ingest.failed} failed, ${ingest.seconds.toFixed(1)} s`,
    true,
  );
  for (const failed of ingest.pages.filter((p) => p.status === 'FAILED'))
    say(`  FAILED ${failed.file}: ${failed.error}`);
  const documents = new Map(
    ingest.pages.filter((p) => p.status === 'READY').map((p) => [p.file, p.documentId]),
  );
  const chunks = await pageChunks(
    pages.filter((p) => documents.has(p.file)),
    ingest.pages,
    platform.config,
  );
  const askStarted = Date.now();
  const outcomes = await evaluate(platform.url, platform.token, items, documents, chunks, (done, o) => {
    const elapsed = (Date.now() - askStarted) / 1000;
    const eta = Math.ceil((elapsed / done) * (items.length - done));
    const marks = MODES.map((m) => `${m[0]}${o.search[m].ranked.slice(0, 5).some(Boolean) ? '+' : '-'}`).join(
      ' ',
    );
    progress(
      `ask ${done}/${items.length} ${o.id}: ${marks} ask${o.ask.contains ? '+' : '-'}, ETA ${eta} s`,
      done === items.length,
    );
  });
  const askSeconds = (Date.now() - askStarted) / 1000;
  const summary = summarise(outcomes);
  const embeddings = `${platform.config.embeddings.provider}/${platform.config.embeddings.dimensions}`;
  say('');
  say(formatTable(summary));
  say('');
  const failures = outcomes.flatMap((o) => [
    ...MODES.filter((m) => o.search[m].error).map((m) => `${o.id} search ${m}: ${o.search[m].error}`),
    ...(o.ask.error ? [`${o.id} ask: ${o.ask.error}`] : []),
  ]);
  if (failures.length) say(`${failures.length} operations answered with an error; the first: ${failures[0]}`);
  const zeroRelevant = outcomes.filter((o) => o.relevantCount === 0).map((o) => o.id);
  if (zeroRelevant.length)
    say(`questions with no relevant chunk (count as misses): ${zeroRelevant.join(', ')}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const run = {
    createdAt: new Date().toISOString(),
    embeddings,
    chunking: { tokens: platform.config.chunkTokens, overlap: platform.config.chunkOverlapTokens },
    database: platform.database,
    seconds: { ingest: ingest.seconds, questions: askSeconds, total: (Date.now() - started) / 1000 },
    corpus: { pages: pages.length, chunks: ingest.chunks, sent: ingest.uploaded, reused: ingest.reused },
    summary,
    items: outcomes,
  };
  await mkdir(RUNS, { recursive: true });
  const file = new URL(`${stamp}.json`, RUNS);
  await writeFile(file, `${JSON.stringify(run, null, 2)}\n`);
  say(`saved ${file.pathname}`);
  let problems: string[] | null = null;
  let baseline: Baseline | null = null;
  if (values.check) {
    baseline = JSON.parse(await readFile(BASELINE, 'utf8')) as Baseline;
    problems = checkAgainst(baseline, summary, embeddings);
    if (subset) problems.push('--check needs every question (drop --only and --limit)');
  }
  const record = runRecord({
    startedAt,
    finishedAt: new Date(),
    ...gitState(ROOT),
    config: runConfig(
      platform.config,
      {
        name: basename(goldenDir.replace(/\/+$/, '')),
        hash: datasetHash(items),
        questions: items.length,
        only: subset ? items.map((item) => item.id) : null,
      },
      { dir: values.corpus, pages: pages.length, chunks: ingest.chunks },
      platform.database,
    ),
    metrics: {
      ...summary,
      seconds: run.seconds,
      check: problems ? { passed: problems.length === 0, problems } : null,
    },
    results: questionResults(items, outcomes),
  });
  await storeEvalRun(platform.databaseUrl, platform.tenantId, record);
  say(`stored run ${record.id} (npm run eval -- --compare <base> ${record.id}; evalRun(id: "${record.id}"))`);
  if (values['write-baseline']) {
    if (subset) throw new Error('--write-baseline needs every question (drop --only and --limit)');
    if (summary.errors > 0) {
      throw new Error(
        `--write-baseline refuses a run with ${summary.errors} failed operations: fix them first`,
      );
    }
    const baseline: Baseline = { createdAt: run.createdAt, embeddings, summary };
    await writeFile(BASELINE, `${JSON.stringify(baseline, null, 2)}\n`);
    say(`wrote ${BASELINE.pathname}`);
  }
  if (problems && baseline) {
    if (problems.length) {
      exitCode = 1;
      for (const p of problems) process.stderr.write(`eval --check FAILED: ${p}\n`);
    } else {
      say(
        `eval --check passed: hybrid hit@5 ${summary.retrieval.HYBRID.hit5.toFixed(3)}, MRR@10 ${summary.retrieval.HYBRID.mrr10.toFixed(3)} (baseline ${baseline.summary.retrieval.HYBRID.hit5.toFixed(3)}, ${baseline.summary.retrieval.HYBRID.mrr10.toFixed(3)})`,
      );
    }
  }
  say(
    `eval: done in ${((Date.now() - started) / 1000).toFixed(1)} s (ingest ${ingest.seconds.toFixed(1)} s, questions ${askSeconds.toFixed(1)} s)`,
  );
} catch (error) {
  exitCode = 1;
  process.stderr.write(`eval failed: ${(error as Error).message}\n`);
} finally {
  await platform.close();
}
process.exit(exitCode);
