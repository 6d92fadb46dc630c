import { Migration } from '@mikro-orm/migrations';

/**
 * Versioned prompts (ADR 0038): a tenant's own versions of the platform's prompt templates
 * (`knowledge.answer`, `agent.planner`), written by the audit subgraph's `setPrompt` and read by
 * every process that renders them (shared code in llm/src/prompts/). Version 0 of each prompt is
 * built into the code and never stored; stored versions count from 1 per tenant and name, and the
 * newest is the current one. A version is immutable: the application may insert and read its
 * tenant's rows, never update or delete them. An agent task remembers which version of the planner
 * prompt opened its conversation, so every later turn (and its generation record) names it.
 */
export class Migration20261206130000_prompts extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table observability.prompts (
        tenant_id uuid not null references platform.tenants (id),
        name text not null check (name ~ '^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)*$' and length(name) <= 100),
        version integer not null check (version >= 1),
        system text not null check (length(system) <= 20000),
        "user" text not null check (length("user") <= 20000),
        comment text check (length(comment) <= 1000),
        created_by text not null check (length(created_by) between 1 and 300),
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, name, version)
      );
      alter table observability.prompts enable row level security;
      alter table observability.prompts force row level security;
      create policy tenant_isolation on observability.prompts
        using (tenant_id = (select current_setting('app.tenant_id')::uuid))
        with check (tenant_id = (select current_setting('app.tenant_id')::uuid));
      grant select, insert on observability.prompts to widgetdc_app;

      alter table agent.tasks
        add column planner_prompt_version integer check (planner_prompt_version >= 0);
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      alter table agent.tasks drop column if exists planner_prompt_version;
      drop table if exists observability.prompts;
    `);
    this.addSql('reset role;');
  }
}
