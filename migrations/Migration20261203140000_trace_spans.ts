import { Migration } from '@mikro-orm/migrations';

/**
 * The embedded flame graph (ADR 0024): every process writes its finished spans to
 * observability.spans in the tenant of the identity they ran for (RLS like every tenant table); the
 * audit subgraph reads them (`trace`, `traces`). The application may insert and read its tenant's
 * spans, never update or delete them; retention is one SECURITY DEFINER function that deletes every
 * tenant's spans older than a time and nothing else (the owner sees all rows through a policy of its
 * own, as the outbox relay does).
 */
export class Migration20261203140000_trace_spans extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create schema if not exists observability;
      alter schema observability owner to widgetdc_owner;
      grant usage on schema observability to widgetdc_app;
    `);
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table observability.spans (
        tenant_id uuid not null references platform.tenants (id),
        trace_id text not null check (trace_id ~ '^[0-9a-f]{32}$'),
        span_id text not null check (span_id ~ '^[0-9a-f]{16}$'),
        parent_span_id text check (parent_span_id ~ '^[0-9a-f]{16}$'),
        name text not null check (length(name) between 1 and 500),
        service text not null check (length(service) between 1 and 200),
        kind smallint not null check (kind between 0 and 4),
        started_at timestamptz(6) not null,
        duration_us bigint not null check (duration_us >= 0),
        status text not null check (status in ('UNSET', 'OK', 'ERROR')),
        status_message text,
        attributes jsonb not null default '{}',
        primary key (tenant_id, trace_id, span_id)
      );
      create index spans_tenant_started_idx on observability.spans (tenant_id, started_at desc);
      create index spans_started_idx on observability.spans (started_at);
      alter table observability.spans enable row level security;
      alter table observability.spans force row level security;
      create policy tenant_isolation on observability.spans
        using (tenant_id = (select current_setting('app.tenant_id')::uuid))
        with check (tenant_id = (select current_setting('app.tenant_id')::uuid));
      create policy retention on observability.spans for all to widgetdc_owner using (true);
      grant select, insert on observability.spans to widgetdc_app;

      create function observability.sweep_spans(older_than timestamptz)
      returns bigint
      language sql volatile security definer set search_path = pg_catalog, observability as $$
        with gone as (delete from observability.spans where started_at < older_than returning 1)
        select count(*) from gone
      $$;
      revoke all on function observability.sweep_spans(timestamptz) from public;
      grant execute on function observability.sweep_spans(timestamptz) to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('drop schema if exists observability cascade;');
  }
}
