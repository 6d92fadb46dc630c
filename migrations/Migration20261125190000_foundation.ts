import { Migration } from '@mikro-orm/migrations';

/** Tenant-isolation policy: the only way a row is visible or writable. */
const isolate = (table: string, column = 'tenant_id') => `
  alter table ${table} enable row level security;
  alter table ${table} force row level security;
  create policy tenant_isolation on ${table}
    using (${column} = (select current_setting('app.tenant_id')::uuid))
    with check (${column} = (select current_setting('app.tenant_id')::uuid));`;

/**
 * Foundation: roles, one schema per subgraph, the vector extension, tenants, and the first tenant
 * tables (documents, chunks with an HNSW index, tasks, approvals, kill switch, audit events), each
 * with FORCE ROW LEVEL SECURITY and a policy reading `app.tenant_id`.
 */
export class Migration20261125190000_foundation extends Migration {
  override async up(): Promise<void> {
    // Roles are cluster-wide and may already exist (another database on the same server, or a
    // concurrent migration): create them idempotently and then pin the attributes that matter.
    this.addSql(`
      do $$ begin create role widgetdc_owner nologin;
      exception when duplicate_object or unique_violation then null; end $$;
      do $$ begin create role widgetdc_app login;
      exception when duplicate_object or unique_violation then null; end $$;
      alter role widgetdc_owner nosuperuser nobypassrls;
      alter role widgetdc_app nosuperuser nobypassrls nocreatedb nocreaterole;
      create extension if not exists vector;
      revoke create on schema public from public;
      create schema if not exists platform;
      create schema if not exists knowledge;
      create schema if not exists agent;
      create schema if not exists governance;
      create schema if not exists audit;
      alter schema platform owner to widgetdc_owner;
      alter schema knowledge owner to widgetdc_owner;
      alter schema agent owner to widgetdc_owner;
      alter schema governance owner to widgetdc_owner;
      alter schema audit owner to widgetdc_owner;
      grant usage on schema platform, knowledge, agent, governance, audit to widgetdc_app;
    `);

    // Everything below is created by, and so owned by, the owner role.
    this.addSql('set local role widgetdc_owner;');

    this.addSql(`
      create table platform.tenants (
        id uuid primary key,
        slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        display_name text not null check (length(display_name) between 1 and 200),
        created_at timestamptz(3) not null default now()
      );
      ${isolate('platform.tenants', 'id')}
      grant select, insert on platform.tenants to widgetdc_app;
    `);

    this.addSql(`
      create table knowledge.documents (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        title text not null check (length(title) between 1 and 500),
        mime_type text not null check (length(mime_type) between 3 and 200),
        status text not null default 'PENDING' check (status in ('PENDING', 'PROCESSING', 'READY', 'FAILED')),
        created_by uuid not null,
        created_at timestamptz(3) not null,
        unique (tenant_id, id)
      );
      create index documents_tenant_created_idx on knowledge.documents (tenant_id, created_at desc, id desc);
      ${isolate('knowledge.documents')}

      create table knowledge.chunks (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        document_id uuid not null,
        ordinal integer not null check (ordinal >= 0),
        content text not null,
        embedding vector(384) not null,
        created_at timestamptz(3) not null,
        foreign key (tenant_id, document_id) references knowledge.documents (tenant_id, id) on delete cascade,
        unique (document_id, ordinal)
      );
      create index chunks_tenant_idx on knowledge.chunks (tenant_id);
      create index chunks_embedding_hnsw_idx on knowledge.chunks using hnsw (embedding vector_cosine_ops);
      ${isolate('knowledge.chunks')}
      grant select, insert, update, delete on knowledge.documents, knowledge.chunks to widgetdc_app;
    `);

    this.addSql(`
      create table agent.tasks (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        title text not null check (length(title) between 1 and 500),
        status text not null default 'PENDING' check (status in
          ('PENDING', 'RUNNING', 'WAITING_FOR_APPROVAL', 'PAUSED', 'COMPLETED', 'FAILED', 'CANCELLED')),
        created_by uuid not null,
        created_by_name text not null,
        created_at timestamptz(3) not null,
        updated_at timestamptz(3) not null
      );
      create index tasks_tenant_created_idx on agent.tasks (tenant_id, created_at desc, id desc);
      ${isolate('agent.tasks')}
      grant select, insert, update, delete on agent.tasks to widgetdc_app;
    `);

    this.addSql(`
      create table governance.approval_requests (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        task_id uuid not null,
        status text not null default 'PENDING' check (status in ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED')),
        risk_level text not null check (risk_level in ('SAFE', 'MEDIUM', 'HIGH')),
        requested_by uuid not null,
        requested_at timestamptz(3) not null,
        decided_by uuid,
        decided_at timestamptz(3)
      );
      create index approval_requests_tenant_task_idx on governance.approval_requests (tenant_id, task_id, requested_at);
      ${isolate('governance.approval_requests')}

      create table governance.kill_switches (
        tenant_id uuid primary key references platform.tenants (id),
        engaged boolean not null,
        engaged_by text,
        engaged_at timestamptz(3),
        reason text check (length(reason) <= 1000)
      );
      ${isolate('governance.kill_switches')}
      grant select, insert, update, delete on governance.approval_requests, governance.kill_switches to widgetdc_app;
    `);

    // The audit log is append-only for the application: no UPDATE/DELETE/TRUNCATE grant, and
    // triggers refuse them even for roles that do hold the privilege.
    this.addSql(`
      create table audit.audit_events (
        id uuid primary key,
        tenant_id uuid not null references platform.tenants (id),
        actor text not null,
        action text not null,
        target_type text not null,
        target_id text,
        at timestamptz(3) not null
      );
      create index audit_events_tenant_at_idx on audit.audit_events (tenant_id, at desc, id desc);
      ${isolate('audit.audit_events')}
      grant select, insert on audit.audit_events to widgetdc_app;

      create function audit.refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception 'audit.audit_events is append-only: % refused', tg_op
          using errcode = 'insufficient_privilege';
      end $$;
      create trigger audit_events_no_update before update or delete on audit.audit_events
        for each row execute function audit.refuse_change();
      create trigger audit_events_no_truncate before truncate on audit.audit_events
        for each statement execute function audit.refuse_change();
    `);

    // The migrations table belongs to the migrating role; give the transaction back to it.
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('drop schema if exists audit, governance, agent, knowledge cascade;');
    this.addSql('drop table if exists platform.tenants cascade;');
  }
}
