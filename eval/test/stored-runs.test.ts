// npm run eval stores every run (a --check run too) in the evaluation tenant with its commit,
// configuration, figures and per-question results; evalRuns / compareEvalRuns and the CLI's --runs /
// --compare read them back. The runs here are real: a three-page corpus and three questions
// (eval/test/fixtures) go through the knowledge subgraph and an ingestion worker process.
import { execFileSync, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { auditSubgraph } from '../../subgraphs/audit/src/subgraph.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const STORED = /stored run ([0-9a-f-]{36})/;
/** The run files the CLI saved under eval/runs/ (removed afterwards). */
const saved: string[] = [];

let db: TestDatabase;
let audit: SubgraphHarness;

function evalCli(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), ['eval/src/run.ts', ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: db.appUrl,
        MIGRATION_DATABASE_URL: '',
        EMBEDDINGS_PROVIDER: 'hashed',
        EMBEDDINGS_DIMENSIONS: '512',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => {
      for (const m of stdout.matchAll(/^saved (\S+\.json)$/gm)) saved.push(m[1]!);
      resolve({ code, stdout, stderr });
    });
  });
}

const TINY = ['--corpus', join(FIXTURES, 'corpus'), '--golden', join(FIXTURES, 'golden')];

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
});
afterAll(async () => {
  for (const file of saved) await rm(file, { force: true });
  await audit?.close();
  await db?.close();
});

describe('npm run eval, stored', () => {
  it('stores a run and a --check run, which evalRuns, evalRun, compareEvalRuns and --compare read back', async () => {
    const first = await evalCli(TINY);
    expect({ code: first.code, stderr: first.code === 0 ? '' : first.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    const baseId = STORED.exec(first.stdout)?.[1];
    expect(baseId).toBeDefined();
    // A --check of a subset fails (and names why), and is stored all the same, with its verdict.
    const second = await evalCli([...TINY, '--check', '--limit', '2'], { KNOWLEDGE_ANSWER_SOURCES: '1' });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(
      'eval --check FAILED: --check needs every question (drop --only and --limit)',
    );
    const otherId = STORED.exec(second.stdout)?.[1];
    expect(otherId).toBeDefined();

    const auditor = await audit.identity('eval', 'audrey', ['Auditor']);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const listed = await audit.execute(
      auditor,
      `{ evalRuns { edges { node { id commit questionCount checkPassed
          config { embedder embedderDimensions answerer promptName promptVersion datasetName questionCount }
          metrics { containment errors methods { method hit5 } } } } } }`,
    );
    expect(listed.errors).toBeUndefined();
    const runs = (listed.data!.evalRuns as { edges: { node: Record<string, unknown> }[] }).edges.map(
      (e) => e.node,
    );
    expect(runs.map((r) => r.id)).toEqual([otherId, baseId]);
    expect(runs[1]).toMatchObject({
      commit: head,
      questionCount: 3,
      checkPassed: null,
      config: {
        embedder: 'hashed',
        embedderDimensions: 512,
        answerer: 'widgetdc.extractive',
        promptName: 'knowledge.answer',
        promptVersion: 0,
        datasetName: 'golden',
        questionCount: 3,
      },
      metrics: { errors: 0 },
    });
    expect(runs[0]).toMatchObject({ questionCount: 2, checkPassed: false });
    const metrics = runs[1]!.metrics as { containment: number; methods: { method: string }[] };
    expect(metrics.methods.map((m) => m.method)).toEqual(['KEYWORD', 'VECTOR', 'HYBRID']);
    expect(metrics.containment).toBeGreaterThanOrEqual(0);

    const one = await audit.execute(
      auditor,
      `query ($id: ID!) { evalRun(id: $id) { results { questionId question expected found missing pass answer
          ranks { method rank } latencyMs } } }`,
      { id: baseId },
    );
    expect(one.errors).toBeUndefined();
    const results = (one.data!.evalRun as { results: Record<string, unknown>[] }).results;
    expect(results.map((r) => r.questionId)).toEqual(['tiny-apt-update', 'tiny-apt-purge', 'tiny-fstab']);
    for (const r of results as {
      expected: string[];
      found: string[];
      missing: string[];
      pass: boolean;
      answer: string;
    }[]) {
      expect([...r.found, ...r.missing].sort()).toEqual([...r.expected].sort());
      expect(r.pass).toBe(r.missing.length === 0);
      expect(r.answer.length).toBeGreaterThan(0);
    }

    const compared = await audit.execute(
      auditor,
      `query ($base: ID!, $other: ID!) { compareEvalRuns(base: $base, other: $other) {
          configChanges sameDataset questions { questionId change } } }`,
      { base: baseId, other: otherId },
    );
    expect(compared.errors).toBeUndefined();
    const c = compared.data!.compareEvalRuns as {
      configChanges: string[];
      sameDataset: boolean;
      questions: { questionId: string; change: string }[];
    };
    expect(c.sameDataset).toBe(false);
    expect(c.questions.find((q) => q.questionId === 'tiny-fstab')?.change).toBe('ONLY_BASE');
    expect(c.questions.filter((q) => q.change !== 'ONLY_BASE')).toHaveLength(2);
    expect(
      c.configChanges.some((change) => change.startsWith('answerer: ') && change.includes('"sources":1')),
    ).toBe(true);

    const cli = await evalCli(['--compare', baseId!, otherId!]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`base  ${baseId}`);
    expect(cli.stdout).toContain('DIFFERENT DATASETS');
    expect(cli.stdout).toMatch(/\| ONLY_BASE \| tiny-fstab \| (\d+|–) → n\/a \| (yes|no) → n\/a \|/);
    expect(cli.stdout).toMatch(/\| retrieval\.HYBRID\.hit5 \| /);
    const list = await evalCli(['--runs']);
    expect(list.code).toBe(0);
    expect(list.stdout.indexOf(otherId!)).toBeLessThan(list.stdout.indexOf(baseId!));
    expect(list.stdout.indexOf(otherId!)).toBeGreaterThan(0);
    const bad = await evalCli(['--compare', baseId!, 'yesterday']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('other must be an evaluation run id (a UUID');
  }, 600_000);
});
