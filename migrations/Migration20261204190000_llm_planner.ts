import { Migration } from '@mikro-orm/migrations';

/** Tenant-isolation policy, as in the foundation migration. */
const isolate = (table: string) => `
  alter table ${table} enable row level security;
  alter table ${table} force row level security;
  create policy tenant_isolation on ${table}
    using (tenant_id = (select current_setting('app.tenant_id')::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id')::uuid));`;

/**
 * The LLM planner: a task says who plans it (the caller or the model), keeps the model's final
 * answer, why the planner stopped it, and what planning cost (model calls, tokens, time); a step
 * planned by the model keeps the model's tool-call id; the conversation with the model is stored
 * message by message (append-only), so another runner resumes it after a crash.
 */
export class Migration20261204190000_llm_planner extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      alter table agent.tasks
        add column planner text not null default 'CALLER' check (planner in ('CALLER', 'LLM')),
        add column answer text check (length(answer) <= 20000),
        add column planner_error text check (length(planner_error) <= 2000),
        add column planner_model_calls integer not null default 0 check (planner_model_calls >= 0),
        add column planner_tool_calls integer not null default 0 check (planner_tool_calls >= 0),
        add column planner_prompt_tokens integer not null default 0 check (planner_prompt_tokens >= 0),
        add column planner_completion_tokens integer not null default 0 check (planner_completion_tokens >= 0),
        add column planner_elapsed_ms integer not null default 0 check (planner_elapsed_ms >= 0);

      alter table agent.task_steps add column tool_call_id text check (length(tool_call_id) between 1 and 200);

      create table agent.task_messages (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        task_id uuid not null references agent.tasks (id) on delete cascade,
        seq integer not null check (seq >= 0),
        message jsonb not null,
        step_id uuid references agent.task_steps (id) on delete cascade,
        created_at timestamptz(3) not null,
        unique (task_id, seq)
      );
      create index task_messages_tenant_task_idx on agent.task_messages (tenant_id, task_id, seq);
      ${isolate('agent.task_messages')}
      grant select, insert on agent.task_messages to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop table if exists agent.task_messages;
      alter table agent.task_steps drop column if exists tool_call_id;
      alter table agent.tasks drop column if exists planner, drop column if exists answer,
        drop column if exists planner_error, drop column if exists planner_model_calls,
        drop column if exists planner_tool_calls, drop column if exists planner_prompt_tokens,
        drop column if exists planner_completion_tokens, drop column if exists planner_elapsed_ms;
    `);
    this.addSql('reset role;');
  }
}
