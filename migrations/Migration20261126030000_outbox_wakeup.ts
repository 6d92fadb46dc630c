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
 * queries into it and the relay hands it on as text.
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
      alter table platform.outbox alter column envelope type jsonb;
      alter table platform.outbox add constraint outbox_tenant_id_fkey
        foreign key (tenant_id) references platform.tenants (id);
    `);
    this.addSql('reset role;');
  }
}
