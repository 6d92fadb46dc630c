import { Migration } from '@mikro-orm/migrations';

/** Advisory-lock class of the outbox wake-up protocol (objid 1: publishers, 2: a busy relay). */
const WAKEUP = "hashtext('widgetdc.outbox.wakeup')";

/**
 * Outbox wake-ups without a NOTIFY per transaction. A NOTIFY serialises the commits of every
 * notifying transaction in the database (PostgreSQL holds a database-wide lock from the queue write
 * to the end of commit) and wakes every listener, so under load it costs more than the insert. A
 * relay that is busy polling holds advisory lock 2, and publishers notify only when no relay does.
 * Each publishing transaction holds lock 1 shared until it ends (nothing ever takes it exclusively,
 * so it never waits): a relay that stops polling releases lock 2, notes the holders of lock 1 in
 * pg_locks and polls until they have all ended, so its last pass sees every row inserted by a
 * transaction that did not notify (kernel/src/events/relay.ts).
 *
 * Two more costs of every publish go. The outbox's foreign key to platform.tenants made every
 * publisher share-lock its tenant's row, which concurrent publishers of one tenant turn into
 * multixacts; the row lives for milliseconds and row-level security already pins it to the
 * transaction's tenant. And the envelope is stored as json, checked but kept as text, since nobody
 * queries into it and the relay hands it on as text. Autovacuum treats it as the queue it is. And
 * take_outbox, the relay's pass, becomes one statement instead of up to three per shard.
 */
export class Migration20261126030000_outbox_wakeup extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create or replace function platform.notify_outbox() returns trigger language plpgsql as $$
      begin
        perform pg_advisory_xact_lock_shared(${WAKEUP}, 1);
        -- momentary: publishers must not keep a relay from taking lock 2
        if pg_try_advisory_lock_shared(${WAKEUP}, 2) then
          perform pg_advisory_unlock_shared(${WAKEUP}, 2);
          perform pg_notify('widgetdc_outbox', '');
        end if;
        return null;
      end $$;
      alter table platform.outbox drop constraint outbox_tenant_id_fkey;
      alter table platform.outbox alter column envelope type json;
      -- a queue: every row is deleted within milliseconds, so vacuum it by row count, not by size
      alter table platform.outbox set (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 2000,
        autovacuum_vacuum_cost_delay = 0);
       -- One statement instead of a loop of three per shard: the non-empty shards, then those this
      -- relay can lock, then up to p_limit of their rows in id order (each shard's rows a prefix of
      -- its backlog, so per-aggregate order holds). The materialized CTEs keep the lock attempts to
      -- non-empty shards.
      create or replace function platform.take_outbox(p_limit integer)
      returns table (id bigint, topic text, tenant_id uuid, envelope text)
      language plpgsql security definer set search_path = pg_catalog, platform as $$
      #variable_conflict use_column
      begin
        if p_limit < 1 or p_limit > 10000 then
          raise exception 'take_outbox: limit must be from 1 to 10000 (got %)', p_limit;
        end if;
        return query
          with candidates as materialized (
            select c.shard from generate_series(0, 15) as c(shard)
            where exists (select 1 from platform.outbox o where o.shard = c.shard)
          ), mine as materialized (
            select c.shard from candidates c
            where pg_try_advisory_xact_lock(hashtext('widgetdc.outbox'), c.shard)
          ), t as (
            select o.id from platform.outbox o
            where o.shard in (select m.shard from mine m)
            order by o.id limit p_limit for update skip locked
          ), d as (
            delete from platform.outbox o using t where o.id = t.id
            returning o.id, o.topic, o.tenant_id, o.envelope::text as envelope
          )
          select d.id, d.topic, d.tenant_id, d.envelope from d order by d.id;
      end $$;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create or replace function platform.notify_outbox() returns trigger language plpgsql as $$
      begin
        perform pg_notify('widgetdc_outbox', '');
        return null;
      end $$;
      alter table platform.outbox reset (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
        autovacuum_vacuum_cost_delay);
      alter table platform.outbox alter column envelope type jsonb;
      alter table platform.outbox add constraint outbox_tenant_id_fkey
        foreign key (tenant_id) references platform.tenants (id);
       create or replace function platform.take_outbox(p_limit integer)
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
    `);
    this.addSql('reset role;');
  }
}
