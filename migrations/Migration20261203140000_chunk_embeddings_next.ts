import { Migration } from '@mikro-orm/migrations';

/**
 * Re-embedding (ADR 0017): `npm run knowledge:reembed` writes each chunk's vector of the new model
 * into knowledge.chunk_embeddings_next (untyped `vector`, no index: it is a staging area) while
 * search keeps reading knowledge.chunks.embedding, then switches a tenant in one transaction. To
 * find the tenants with chunks still to do it needs one cross-tenant read of counts only: a
 * SECURITY DEFINER function (the owner sees every tenant's chunks through a select-only policy,
 * as audit.chain_heads does).
 */
export class Migration20261203140000_chunk_embeddings_next extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table knowledge.chunk_embeddings_next (
        chunk_id uuid primary key references knowledge.chunks (id) on delete cascade,
        tenant_id uuid not null references platform.tenants (id),
        model text not null check (length(model) between 1 and 200),
        embedding vector not null,
        created_at timestamptz(3) not null default now()
      );
      create index chunk_embeddings_next_tenant_idx on knowledge.chunk_embeddings_next (tenant_id, model);
      alter table knowledge.chunk_embeddings_next enable row level security;
      alter table knowledge.chunk_embeddings_next force row level security;
      create policy tenant_isolation on knowledge.chunk_embeddings_next
        using (tenant_id = (select current_setting('app.tenant_id')::uuid))
        with check (tenant_id = (select current_setting('app.tenant_id')::uuid));
      grant select, insert, delete on knowledge.chunk_embeddings_next to widgetdc_app;

      create policy reembed_pending on knowledge.chunks for select to widgetdc_owner using (true);
      create function knowledge.reembed_pending(target text)
      returns table (tenant_id uuid, pending bigint)
      language sql stable security definer set search_path = pg_catalog, knowledge as $$
        select c.tenant_id, count(*) from knowledge.chunks c
         where c.embedding_model <> target group by c.tenant_id order by c.tenant_id
      $$;
      revoke all on function knowledge.reembed_pending(text) from public;
      grant execute on function knowledge.reembed_pending(text) to widgetdc_app;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop function if exists knowledge.reembed_pending(text);
      drop policy if exists reembed_pending on knowledge.chunks;
      drop table if exists knowledge.chunk_embeddings_next;
    `);
    this.addSql('reset role;');
  }
}
