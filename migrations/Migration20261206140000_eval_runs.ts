import { Migration } from '@mikro-orm/migrations';

/** Tenant-isolation policy, as in the foundation migration. */
const isolate = (table: string) => `
  alter table ${table} enable row level security;
  alter table ${table} force row level security;
  create policy tenant_isolation on ${table}
    using (tenant_id = (select current_setting('app.tenant_id')::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id')::uuid));`;

/**
 * Evaluation runs as experiments (ADR 0039): every `npm run eval` stores, in the tenant it evaluated,
 * one run (when, which commit, its configuration and figures) and one row per golden question (how each
 * retrieval mode ranked it, the answer and what it lacked). The audit subgraph reads them (`evalRuns`,
 * `evalRun`, `compareEvalRuns`). A run is a record of what happened: the application may insert and read
 * its tenant's runs, never change or delete them.
 */
export class Migration20261206140000_eval_runs extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create schema if not exists observability;
      alter schema observability owner to widgetdc_owner;
      grant usage on schema observability to widgetdc_app;
    `);
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table observability.eval_runs (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        started_at timestamptz(3) not null,
        finished_at timestamptz(3) not null check (finished_at >= started_at),
        commit text check (commit ~ '^[0-9a-f]{7,64}$'),
        dirty boolean not null default false,
        question_count integer not null check (question_count >= 0),
        check_passed boolean,
        config jsonb not null,
        metrics jsonb not null,
        unique (tenant_id, id)
      );
      create index eval_runs_tenant_started_idx on observability.eval_runs (tenant_id, started_at desc, id desc);
      ${isolate('observability.eval_runs')}
      grant select, insert on observability.eval_runs to widgetdc_app;

      create table observability.eval_results (
        tenant_id uuid not null,
        run_id uuid not null,
        position integer not null check (position >= 0),
        question_id text not null check (length(question_id) between 1 and 200),
        question text not null check (length(question) <= 2000),
        source text not null check (length(source) <= 500),
        category text not null check (length(category) <= 100),
        paraphrase boolean not null,
        expected jsonb not null,
        relevant_count integer not null check (relevant_count >= 0),
        ranks jsonb not null,
        answer text not null check (length(answer) <= 50000),
        found jsonb not null,
        missing jsonb not null,
        pass boolean not null,
        unanswered boolean not null,
        citations integer not null check (citations >= 0),
        supported_citations integer not null check (supported_citations >= 0),
        latency_ms double precision not null check (latency_ms >= 0),
        error text check (length(error) <= 2000),
        primary key (tenant_id, run_id, question_id),
        foreign key (tenant_id, run_id) references observability.eval_runs (tenant_id, id)
      );
      ${isolate('observability.eval_results')}
      grant select, insert on observability.eval_results to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(
      'drop table if exists observability.eval_results; drop table if exists observability.eval_runs;',
    );
    this.addSql('reset role;');
  }
}
