// npm run eval [-- --check] [-- --write-baseline] [-- --only <id,id,…>]
// Ingests the Debian handbook into the knowledge subgraph (cached between runs), asks every golden
// question with keyword, vector and hybrid search and with `ask`, prints the table and saves the run
// as eval/runs/<timestamp>.json. --check fails (exit 1) when hybrid hit@5 or MRR@10 fell more than
// 0.02 below eval/baseline.json; --write-baseline makes this run the baseline. See ADR 0020.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { corpusPages, DEFAULT_CORPUS_DIR } from './corpus.ts';
import { evaluate, MODES, pageChunks } from './evaluate.ts';
import { loadGolden } from './golden.ts';
import { ingestCorpus } from './ingest-corpus.ts';
import { startEvalPlatform } from './platform.ts';
import { type Baseline, checkAgainst, formatTable, summarise } from './report.ts';

const BASELINE = new URL('../baseline.json', import.meta.url);
const RUNS = new URL('../runs/', import.meta.url);

const { values } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    'write-baseline': { type: 'boolean', default: false },
    only: { type: 'string' },
    corpus: { type: 'string', default: DEFAULT_CORPUS_DIR },
  },
});

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
let items = loadGolden();
if (values.only) {
  const wanted = new Set(values.only.split(','));
  items = items.filter((item) => wanted.has(item.id));
  if (items.length === 0) throw new Error(`--only names no golden question (${values.only})`);
}
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
  if (values['write-baseline']) {
    if (values.only) throw new Error('--write-baseline needs every question (drop --only)');
    const baseline: Baseline = { createdAt: run.createdAt, embeddings, summary };
    await writeFile(BASELINE, `${JSON.stringify(baseline, null, 2)}\n`);
    say(`wrote ${BASELINE.pathname}`);
  }
  if (values.check) {
    const baseline = JSON.parse(await readFile(BASELINE, 'utf8')) as Baseline;
    const problems = checkAgainst(baseline, summary, embeddings);
    if (values.only) problems.push('--check needs every question (drop --only)');
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
