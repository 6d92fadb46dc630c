/**
 * Writes an evaluation run to observability.eval_runs / eval_results in the tenant it evaluated, in one
 * transaction with that tenant's scope (row-level security checks every row), as the application role.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import type { EvalRunRecord } from './run-record.ts';

/** Question rows per INSERT statement. */
const ROWS_PER_STATEMENT = 50;
/** Longest answer kept (the column's limit). */
const MAX_ANSWER_CHARS = 50_000;
const RESULT_COLUMNS = 20;

/** Inserts `run` and its questions into the tenant's tables with `em` (already in the tenant's transaction). */
export async function insertEvalRun(em: EntityManager, tenantId: string, run: EvalRunRecord): Promise<void> {
  await em.execute(
    `insert into observability.eval_runs
       (id, tenant_id, started_at, finished_at, commit, dirty, question_count, check_passed, config, metrics)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb)`,
    [
      run.id,
      tenantId,
      run.startedAt,
      run.finishedAt,
      run.commit,
      run.dirty,
      run.results.length,
      run.checkPassed,
      JSON.stringify(run.config),
      JSON.stringify(run.metrics),
    ],
  );
  for (let i = 0; i < run.results.length; i += ROWS_PER_STATEMENT) {
    const batch = run.results.slice(i, i + ROWS_PER_STATEMENT);
    const params: unknown[] = [];
    for (const [j, r] of batch.entries()) {
      params.push(
        tenantId,
        run.id,
        i + j,
        r.questionId,
        r.question,
        r.source,
        r.category,
        r.paraphrase,
        JSON.stringify(r.expected),
        r.relevantCount,
        JSON.stringify(r.ranks),
        r.answer.slice(0, MAX_ANSWER_CHARS),
        JSON.stringify(r.found),
        JSON.stringify(r.missing),
        r.pass,
        r.unanswered,
        r.citations,
        r.supportedCitations,
        r.latencyMs,
        r.error?.slice(0, 2000) ?? null,
      );
    }
    const row = `(${Array.from({ length: RESULT_COLUMNS }, (_, k) => ([8, 10, 12, 13].includes(k) ? '?::jsonb' : '?')).join(', ')})`;
    await em.execute(
      `insert into observability.eval_results
         (tenant_id, run_id, position, question_id, question, source, category, paraphrase, expected,
          relevant_count, ranks, answer, found, missing, pass, unanswered, citations, supported_citations,
          latency_ms, error)
       values ${batch.map(() => row).join(', ')}`,
      params,
    );
  }
}

/** Stores `run` in `tenantId` through `orm` (one transaction). */
export function saveEvalRun(orm: MikroORM, tenantId: string, run: EvalRunRecord): Promise<void> {
  return withTenant(orm, tenantId, (em) => insertEvalRun(em, tenantId, run));
}

/** Opens the database at `url` (the application role), stores `run` in `tenantId` and closes it. */
export async function storeEvalRun(url: string, tenantId: string, run: EvalRunRecord): Promise<void> {
  const orm = await createOrm({ url, entities: [], poolMax: 1 });
  try {
    await saveEvalRun(orm, tenantId, run);
  } finally {
    await orm.close();
  }
}
