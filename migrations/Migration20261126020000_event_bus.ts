import { Migration } from '@mikro-orm/migrations';

/** Tenant-isolation policy, as in the foundation migration. */
const isolate = (table: string) => `
  alter table ${table} enable row level security;
  alter table ${table} force row level security;
  create policy tenant_isolation on ${table}
    using (tenant_id = (select current_setting('app.tenant_id')::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id')::uuid));`;

/**
 * Event bus: the transactional outbox (a tenant table the application may only INSERT into; relays
 * take rows of every tenant through one SECURITY DEFINER function), the processed-event ledger of
 * idempotent consumers, and the tables of the embedded (Postgres-backed) stream transport.
 */
export class Migration20261126020000_event_bus extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');

    this.addSql(`
      create table platform.outbox (
        id bigserial primary key,
        tenant_id uuid not null references platform.tenants (id),
        event_id uuid not null unique,
        topic text not null check (topic ~ '^[a-z]+(\\.[a-z_]+)+$'),
        aggregate_key text not null,
        shard smallint not null check (shard between 0 and 15),
        envelope jsonb not null,
        created_at timestamptz(3) not null default clock_timestamp()
      );
      create index outbox_shard_id_idx on platform.outbox (shard, id);
      create index outbox_tenant_idx on platform.outbox (tenant_id);
      ${isolate('platform.outbox')}
      -- Only the owner (that is, the SECURITY DEFINER functions below) sees every tenant's rows.
      create policy relay_take on platform.outbox for all to widgetdc_owner using (true) with check (true);
      grant insert on platform.outbox to widgetdc_app;
      grant usage on sequence platform.outbox_id_seq to widgetdc_app;

      create function platform.notify_outbox() returns trigger language plpgsql as $$
      begin
        perform pg_notify('widgetdc_outbox', '');
        return null;
      end $$;
      create trigger outbox_notify after insert on platform.outbox
        for each statement execute function platform.notify_outbox();

      -- Deletes and returns up to p_limit rows, oldest first within each shard, from shards no
      -- other relay holds (a transaction-scoped advisory lock per shard). The rows come back if the
      -- caller's transaction rolls back (its append failed), so delivery is at-least-once; one relay
      -- per shard at a time keeps per-aggregate order.
      create function platform.take_outbox(p_limit integer)
      returns table (id bigint, topic text, tenant_id uuid, envelope text)
      language plpgsql security definer set search_path = pg_catalog, platform as $$
      #variable_conflict use_column
      declare
        first_shard integer := floor(random() * 16)::integer;
        s integer;
        taken integer := 0;
        n integer;
      begin
        if p_limit < 1 or p_limit > 10000 then
          raise exception 'take_outbox: limit must be from 1 to 10000 (got %)', p_limit;
        end if;
        for i in 0..15 loop
          exit when taken >= p_limit;
          s := (first_shard + i) % 16;
          continue when not exists (select 1 from platform.outbox o where o.shard = s);
          continue when not pg_try_advisory_xact_lock(hashtext('widgetdc.outbox'), s);
          return query
            with t as (
              select o.id from platform.outbox o where o.shard = s
              order by o.id limit p_limit - taken for update skip locked
            ), d as (
              delete from platform.outbox o using t where o.id = t.id
              returning o.id, o.topic, o.tenant_id, o.envelope::text as envelope
            )
            select d.id, d.topic, d.tenant_id, d.envelope from d order by d.id;
          get diagnostics n = row_count;
          taken := taken + n;
        end loop;
      end $$;
      revoke all on function platform.take_outbox(integer) from public;
      grant execute on function platform.take_outbox(integer) to widgetdc_app;

      -- Backlog size and age for metrics, without exposing any row.
      create function platform.outbox_backlog()
      returns table (rows bigint, oldest timestamptz)
      language sql security definer set search_path = pg_catalog, platform as $$
        select count(*), min(created_at) from platform.outbox
      $$;
      revoke all on function platform.outbox_backlog() from public;
      grant execute on function platform.outbox_backlog() to widgetdc_app;
    `);

    this.addSql(`
      create table platform.processed_events (
        tenant_id uuid not null references platform.tenants (id),
        consumer_group text not null,
        event_id uuid not null,
        processed_at timestamptz(3) not null default clock_timestamp(),
        primary key (consumer_group, event_id)
      );
      create index processed_events_tenant_idx on platform.processed_events (tenant_id);
      ${isolate('platform.processed_events')}
      grant select, insert on platform.processed_events to widgetdc_app;
    `);

    // The embedded transport mirrors Redis Streams (which has no row-level security either): it is
    // infrastructure the worker reads across tenants; envelopes carry their tenant.
    this.addSql(`
      create table platform.stream_entries (
        id bigserial primary key,
        stream text not null,
        tenant_id uuid,
        envelope text not null,
        created_at timestamptz(3) not null default clock_timestamp()
      );
      create index stream_entries_stream_id_idx on platform.stream_entries (stream, id);

      create table platform.stream_groups (
        stream text not null,
        group_name text not null,
        last_id bigint not null default 0,
        primary key (stream, group_name)
      );

      create table platform.stream_pending (
        stream text not null,
        group_name text not null,
        entry_id bigint not null,
        consumer text not null,
        delivered_at timestamptz(3) not null,
        delivery_count integer not null,
        primary key (stream, group_name, entry_id)
      );
      create index stream_pending_idle_idx on platform.stream_pending (stream, group_name, delivered_at);

      create table platform.stream_dead_letters (
        id bigserial primary key,
        stream text not null,
        group_name text not null,
        original_id text not null,
        tenant_id uuid,
        envelope text not null,
        error text not null,
        attempts integer not null,
        consumer text not null,
        failed_at timestamptz(3) not null default clock_timestamp()
      );
      create index stream_dead_letters_stream_idx on platform.stream_dead_letters (stream, id);

      grant select, insert, update, delete on platform.stream_entries, platform.stream_groups,
        platform.stream_pending, platform.stream_dead_letters to widgetdc_app;
      grant usage on sequence platform.stream_entries_id_seq, platform.stream_dead_letters_id_seq
        to widgetdc_app;
    `);

    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop table if exists platform.stream_dead_letters, platform.stream_pending, platform.stream_groups,
        platform.stream_entries, platform.processed_events, platform.outbox cascade;
      drop function if exists platform.take_outbox(integer), platform.outbox_backlog(),
        platform.notify_outbox();
    `);
  }
}
