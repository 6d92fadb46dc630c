import { Migration } from '@mikro-orm/migrations';

/** Tenant-isolation policy: the only way a row is visible or writable. */
const isolate = (table: string) => `
  alter table ${table} enable row level security;
  alter table ${table} force row level security;
  create policy tenant_isolation on ${table}
    using (tenant_id = (select current_setting('app.tenant_id')::uuid))
    with check (tenant_id = (select current_setting('app.tenant_id')::uuid));`;

/** Dimensions of the chunks' vectors: the configured embedder's (EMBEDDINGS_DIMENSIONS, default 512). */
function embeddingDimensions(): number {
  const raw = process.env.EMBEDDINGS_DIMENSIONS?.trim() || '512';
  const dims = Number(raw);
  // pgvector's HNSW index takes at most 2,000 dimensions.
  if (!Number.isInteger(dims) || dims < 2 || dims > 2000) {
    throw new Error(`EMBEDDINGS_DIMENSIONS must be a whole number from 2 to 2000 (got "${raw}")`);
  }
  return dims;
}

/**
 * Knowledge ingestion: documents gain the ingestion statuses (QUEUED → PARSING → EMBEDDING →
 * READY | FAILED), their reason, counts, content hash (dedupe per tenant), source URI and version
 * (a new content for a source is a new version; only the current one is searched); original bytes
 * are kept content-addressed in knowledge.document_blobs; chunks keep their heading path, page,
 * token count and the model that embedded them, in a vector column of the configured size with an
 * HNSW cosine index. Chunks were never filled before this, so the column is recreated empty.
 */
export class Migration20261202160648_knowledge_ingestion extends Migration {
  override async up(): Promise<void> {
    const dims = embeddingDimensions();
    // As the migrating superuser, which row-level security does not apply to: existing rows move
    // to the new statuses before the owner role changes the tables.
    this.addSql(`
      alter table knowledge.documents drop constraint documents_status_check;
      update knowledge.documents set status = case status when 'PENDING' then 'QUEUED' when 'PROCESSING' then 'PARSING' else status end;
    `);
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table knowledge.document_blobs (
        tenant_id uuid not null references platform.tenants (id),
        sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
        size bigint not null check (size > 0),
        content bytea not null,
        created_at timestamptz(3) not null default now(),
        primary key (tenant_id, sha256)
      );
      ${isolate('knowledge.document_blobs')}
      grant select, insert, delete on knowledge.document_blobs to widgetdc_app;

      alter table knowledge.documents
        alter column status set default 'QUEUED',
        add constraint documents_status_check check (status in ('QUEUED', 'PARSING', 'EMBEDDING', 'READY', 'FAILED')),
        add column content_sha256 text check (content_sha256 ~ '^[0-9a-f]{64}$'),
        add column bytes bigint check (bytes >= 0),
        add column source_uri text check (length(source_uri) between 1 and 2000),
        add column version integer not null default 1 check (version >= 1),
        add column is_current boolean not null default true,
        add column language text check (length(language) between 2 and 35),
        add column metadata jsonb not null default '{}',
        add column error text check (length(error) <= 2000),
        add column chunk_count integer check (chunk_count >= 0),
        add column page_count integer check (page_count >= 0),
        add column ingested_at timestamptz(3),
        add column updated_at timestamptz(3) not null default now();
      create unique index documents_tenant_sha256_idx on knowledge.documents (tenant_id, content_sha256);
      create unique index documents_source_version_idx on knowledge.documents (tenant_id, source_uri, version)
        where source_uri is not null;
      -- NOT VALID: no existing row has a hash, and the initial check would run under row-level security.
      alter table knowledge.documents add constraint documents_blob_fkey foreign key (tenant_id, content_sha256)
        references knowledge.document_blobs (tenant_id, sha256) not valid;

      truncate knowledge.chunks;
      drop index knowledge.chunks_embedding_hnsw_idx;
      alter table knowledge.chunks
        alter column embedding type vector(${dims}),
        add column heading_path text not null default '',
        add column page integer check (page >= 1),
        add column token_count integer not null default 0 check (token_count >= 0),
        add column embedding_model text not null default 'unknown' check (length(embedding_model) between 1 and 200);
      create index chunks_document_idx on knowledge.chunks (document_id);
      create index chunks_embedding_hnsw_idx on knowledge.chunks using hnsw (embedding vector_cosine_ops);
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql(`
      alter table knowledge.documents drop constraint documents_status_check;
      update knowledge.documents set status = case status when 'QUEUED' then 'PENDING' when 'READY' then 'READY'
        when 'FAILED' then 'FAILED' else 'PROCESSING' end;
    `);
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      truncate knowledge.chunks;
      drop index knowledge.chunks_embedding_hnsw_idx;
      drop index knowledge.chunks_document_idx;
      alter table knowledge.chunks
        alter column embedding type vector(384),
        drop column heading_path, drop column page, drop column token_count, drop column embedding_model;
      create index chunks_embedding_hnsw_idx on knowledge.chunks using hnsw (embedding vector_cosine_ops);
      alter table knowledge.documents
        alter column status set default 'PENDING',
        add constraint documents_status_check check (status in ('PENDING', 'PROCESSING', 'READY', 'FAILED')),
        drop column content_sha256, drop column bytes, drop column source_uri, drop column version,
        drop column is_current, drop column language, drop column metadata, drop column error,
        drop column chunk_count, drop column page_count, drop column ingested_at, drop column updated_at;
      drop table knowledge.document_blobs;
    `);
    this.addSql('reset role;');
  }
}
