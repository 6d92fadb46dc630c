import { Migration } from '@mikro-orm/migrations';

/**
 * Anchored audit chain: the audit service checkpoints every tenant's chain head outside the
 * database. To find the heads it needs one cross-tenant read, and only of the heads: a SECURITY
 * DEFINER function (the owner sees every tenant's rows through a select-only policy, as the outbox
 * relay does) returns each tenant's newest sequence number and nothing else; the checkpointer reads
 * the head itself inside that tenant's own transaction.
 */
export class Migration20261202160136_audit_chain_heads extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create policy chain_heads on audit.audit_events for select to widgetdc_owner using (true);

      create function audit.chain_heads()
      returns table (tenant_id uuid, seq bigint)
      language sql stable security definer set search_path = pg_catalog, audit as $$
        select distinct on (e.tenant_id) e.tenant_id, e.seq
          from audit.audit_events e order by e.tenant_id, e.seq desc
      $$;
      revoke all on function audit.chain_heads() from public;
      grant execute on function audit.chain_heads() to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop function if exists audit.chain_heads();
      drop policy if exists chain_heads on audit.audit_events;
    `);
    this.addSql('reset role;');
  }
}
