import { Migration } from '@mikro-orm/migrations';

/** Tenant-isolation policy, as in the foundation migration. */
const isolate = (table: string) => `
  alter table ${table} enable row level security;
  alter table ${table} force row level security;
  create policy tenant_isolation on ${table}
    using (tenant_id = (select current_setting('app.tenant_id')::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id')::uuid));`;

const STEP_STATUSES = `('PENDING', 'RUNNING', 'WAITING_FOR_APPROVAL', 'SUCCEEDED', 'FAILED', 'REJECTED', 'EXPIRED', 'CANCELLED')`;

/**
 * Agents do work: a task gets a goal and steps (tool calls with their input, digest, output, error,
 * timing, attempts and idempotency key), tenants get versioned tool policies, the built-in tools get
 * their tables (notes, offline sent mail), and runners get the kill switch's state in their own
 * schema (mirrored from governance's events, so it survives restarts of every process and of Redis).
 */
export class Migration20261202160022_agent_tools_and_steps extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      alter table agent.tasks add column goal text check (length(goal) between 1 and 2000);

      create table agent.task_steps (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        task_id uuid not null references agent.tasks (id) on delete cascade,
        ordinal integer not null check (ordinal between 0 and 99),
        tool text not null check (length(tool) between 1 and 100),
        input jsonb not null,
        input_digest text not null check (input_digest ~ '^[0-9a-f]{64}$'),
        status text not null check (status in ${STEP_STATUSES}),
        risk_level text check (risk_level in ('SAFE', 'MEDIUM', 'HIGH')),
        output jsonb,
        error text check (length(error) <= 2000),
        attempts integer not null default 0 check (attempts >= 0),
        max_attempts integer not null check (max_attempts between 1 and 10),
        idempotency_key text not null unique,
        approval_id uuid,
        approval_digest text,
        approval_policy_version integer,
        approval_expires_at timestamptz(3),
        approved_by jsonb,
        approved_at timestamptz(3),
        started_at timestamptz(3),
        finished_at timestamptz(3),
        unique (task_id, ordinal)
      );
      create index task_steps_tenant_task_idx on agent.task_steps (tenant_id, task_id, ordinal);
      ${isolate('agent.task_steps')}
      grant select, insert, update on agent.task_steps to widgetdc_app;

      -- Versions are immutable: a new policy is a new row.
      create table agent.tool_policies (
        tenant_id uuid not null references platform.tenants (id),
        version integer not null check (version >= 1),
        rules jsonb not null,
        created_by uuid not null,
        created_by_name text not null,
        created_at timestamptz(3) not null,
        primary key (tenant_id, version)
      );
      ${isolate('agent.tool_policies')}
      grant select, insert on agent.tool_policies to widgetdc_app;

      create table agent.notes (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        title text not null check (length(title) between 1 and 500),
        body text not null check (length(body) <= 100000),
        created_by uuid not null,
        created_by_name text not null,
        created_at timestamptz(3) not null,
        updated_at timestamptz(3) not null
      );
      create index notes_tenant_created_idx on agent.notes (tenant_id, created_at desc, id desc);
      ${isolate('agent.notes')}
      grant select, insert, update, delete on agent.notes to widgetdc_app;

      -- One row per sent mail; the idempotency key is the step's, so a step never sends twice.
      create table agent.sent_mails (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        task_id uuid,
        idempotency_key text not null unique,
        recipients jsonb not null,
        subject text not null check (length(subject) between 1 and 500),
        body text not null check (length(body) <= 100000),
        sent_by uuid not null,
        sent_by_name text not null,
        transport text not null check (transport in ('offline', 'graph')),
        sent_at timestamptz(3) not null
      );
      create index sent_mails_tenant_sent_idx on agent.sent_mails (tenant_id, sent_at desc, id desc);
      ${isolate('agent.sent_mails')}
      grant select, insert on agent.sent_mails to widgetdc_app;

      create table agent.kill_switch_state (
        tenant_id uuid primary key references platform.tenants (id),
        engaged boolean not null,
        reason text check (length(reason) <= 1000),
        changed_at timestamptz(3) not null
      );
      ${isolate('agent.kill_switch_state')}
      grant select, insert, update on agent.kill_switch_state to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop table if exists agent.kill_switch_state, agent.sent_mails, agent.notes, agent.tool_policies, agent.task_steps;
      alter table agent.tasks drop column if exists goal;
    `);
    this.addSql('reset role;');
  }
}
