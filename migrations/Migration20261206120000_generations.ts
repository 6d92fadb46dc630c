import { Migration } from '@mikro-orm/migrations';

/**
 * Every LLM call recorded (ADR 0037): observability.generations holds one row per model call (chat or
 * embeddings) in the tenant it ran for, written by the llm package's recorder in every process and read
 * by the audit subgraph, like observability.spans (ADR 0024). observability.token_usage is the month's
 * running total per tenant and user, upserted in the same statement as each generation (so a budget
 * check on any replica reads committed totals); observability.token_budgets holds the monthly limits
 * (user_id '' = the whole tenant; monthly_tokens null = no limit, so removing one needs no DELETE).
 * The application may insert and read generations, never change or delete them; retention is one
 * SECURITY DEFINER function like sweep_spans.
 */
export class Migration20261206120000_generations extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table observability.generations (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        created_at timestamptz(6) not null default now(),
        trace_id text check (trace_id ~ '^[0-9a-f]{32}$'),
        span_id text check (span_id ~ '^[0-9a-f]{16}$'),
        operation text not null check (operation in ('chat', 'embeddings')),
        purpose text not null check (length(purpose) between 1 and 100),
        actor_kind text not null check (actor_kind in ('USER', 'AGENT', 'SERVICE')),
        user_id text check (length(user_id) <= 200),
        user_name text check (length(user_name) <= 300),
        task_id uuid,
        provider text not null check (length(provider) between 1 and 100),
        model text not null check (length(model) between 1 and 200),
        response_model text check (length(response_model) <= 200),
        prompt_name text check (length(prompt_name) <= 200),
        prompt_version int,
        prompt_variables jsonb,
        prompt_messages int,
        input jsonb not null,
        output text,
        input_tokens int not null default 0 check (input_tokens >= 0),
        output_tokens int not null default 0 check (output_tokens >= 0),
        total_tokens int not null default 0 check (total_tokens >= 0),
        cost_usd numeric(14, 6) not null default 0 check (cost_usd >= 0),
        latency_ms double precision not null check (latency_ms >= 0),
        ttft_ms double precision check (ttft_ms >= 0),
        status text not null check (status in ('SUCCEEDED', 'FAILED')),
        error_type text check (length(error_type) <= 100),
        error_message text check (length(error_message) <= 2000),
        replay_of uuid references observability.generations (id) on delete set null
      );
      create index generations_tenant_created_idx on observability.generations (tenant_id, created_at desc, id desc);
      create index generations_tenant_failed_idx on observability.generations (tenant_id, created_at desc)
        where status = 'FAILED';
      create index generations_created_idx on observability.generations (created_at);
      create index generations_replay_of_idx on observability.generations (replay_of) where replay_of is not null;
      alter table observability.generations enable row level security;
      alter table observability.generations force row level security;
      create policy tenant_isolation on observability.generations
        using (tenant_id = (select current_setting('app.tenant_id')::uuid))
        with check (tenant_id = (select current_setting('app.tenant_id')::uuid));
      create policy retention on observability.generations for all to widgetdc_owner using (true);
      grant select, insert on observability.generations to widgetdc_app;

      create table observability.token_usage (
        tenant_id uuid not null references platform.tenants (id),
        user_id text not null default '' check (length(user_id) <= 200),
        month date not null check (extract(day from month) = 1),
        tokens bigint not null default 0 check (tokens >= 0),
        cost_usd numeric(18, 6) not null default 0 check (cost_usd >= 0),
        calls int not null default 0 check (calls >= 0),
        primary key (tenant_id, month, user_id)
      );
      alter table observability.token_usage enable row level security;
      alter table observability.token_usage force row level security;
      create policy tenant_isolation on observability.token_usage
        using (tenant_id = (select current_setting('app.tenant_id')::uuid))
        with check (tenant_id = (select current_setting('app.tenant_id')::uuid));
      grant select, insert, update on observability.token_usage to widgetdc_app;

      create table observability.token_budgets (
        tenant_id uuid not null references platform.tenants (id),
        user_id text not null default '' check (length(user_id) <= 200),
        monthly_tokens bigint check (monthly_tokens >= 0),
        updated_by text not null check (length(updated_by) between 1 and 300),
        updated_at timestamptz(6) not null default now(),
        primary key (tenant_id, user_id)
      );
      alter table observability.token_budgets enable row level security;
      alter table observability.token_budgets force row level security;
      create policy tenant_isolation on observability.token_budgets
        using (tenant_id = (select current_setting('app.tenant_id')::uuid))
        with check (tenant_id = (select current_setting('app.tenant_id')::uuid));
      grant select, insert, update on observability.token_budgets to widgetdc_app;

      create function observability.sweep_generations(older_than timestamptz)
      returns bigint
      language sql volatile security definer set search_path = pg_catalog, observability as $$
        with gone as (delete from observability.generations where created_at < older_than returning 1)
        select count(*) from gone
      $$;
      revoke all on function observability.sweep_generations(timestamptz) from public;
      grant execute on function observability.sweep_generations(timestamptz) to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('drop function if exists observability.sweep_generations(timestamptz);');
    this.addSql(
      'drop table if exists observability.token_budgets, observability.token_usage, observability.generations;',
    );
  }
}
