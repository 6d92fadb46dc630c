import { Migration } from '@mikro-orm/migrations';

/**
 * BCP 47 primary language subtags → PostgreSQL's built-in text-search configurations. A tag whose
 * configuration the server lacks (PostgreSQL 15 has no `estonian`) or that is not listed falls back
 * to `simple` (no stemming, no stop words); no tag at all is English.
 */
const CONFIGS: Record<string, string> = {
  ar: 'arabic',
  ca: 'catalan',
  da: 'danish',
  de: 'german',
  el: 'greek',
  en: 'english',
  es: 'spanish',
  et: 'estonian',
  eu: 'basque',
  fi: 'finnish',
  fr: 'french',
  ga: 'irish',
  hi: 'hindi',
  hu: 'hungarian',
  hy: 'armenian',
  id: 'indonesian',
  it: 'italian',
  lt: 'lithuanian',
  nb: 'norwegian',
  ne: 'nepali',
  nl: 'dutch',
  nn: 'norwegian',
  no: 'norwegian',
  pt: 'portuguese',
  ro: 'romanian',
  ru: 'russian',
  sr: 'serbian',
  sv: 'swedish',
  ta: 'tamil',
  tr: 'turkish',
  yi: 'yiddish',
};

/**
 * Hybrid search. Each chunk gets the text-search configuration of its document's language
 * (`ts_config`, set by a trigger from `knowledge.documents.language`) and a `tsv` the database
 * keeps itself (a stored generated column: heading path weighted B, content D) with a GIN index.
 * Existing chunks take their document's configuration.
 */
export class Migration20261203133000_knowledge_search extends Migration {
  override async up(): Promise<void> {
    const cases = Object.entries(CONFIGS)
      .map(([tag, config]) => `when '${tag}' then '${config}'`)
      .join(' ');
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create function knowledge.text_search_config(language text) returns regconfig
      language sql stable parallel safe set search_path = pg_catalog as $$
        select case
          when language is null or btrim(language) = '' then 'english'::regconfig
          else coalesce(
            (select c.oid::regconfig from pg_ts_config c
              where c.cfgnamespace = 'pg_catalog'::regnamespace
                and c.cfgname = case lower(split_part(btrim(language), '-', 1)) ${cases} else 'simple' end),
            'simple'::regconfig)
        end
      $$;
      grant execute on function knowledge.text_search_config(text) to widgetdc_app;

      create function knowledge.chunks_set_ts_config() returns trigger
      language plpgsql set search_path = pg_catalog as $$
      begin
        -- Runs as the inserting role, under its tenant's row-level security: it sees only its documents.
        new.ts_config := knowledge.text_search_config(
          (select d.language from knowledge.documents d where d.id = new.document_id));
        return new;
      end
      $$;

      alter table knowledge.chunks add column ts_config regconfig not null default 'english';
    `);
    this.addSql('reset role;');
    // As the migrating superuser (row-level security does not apply): existing chunks.
    this.addSql(`
      update knowledge.chunks c set ts_config = knowledge.text_search_config(d.language)
        from knowledge.documents d where d.id = c.document_id;
    `);
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      alter table knowledge.chunks add column tsv tsvector generated always as (
        setweight(to_tsvector(ts_config, heading_path), 'B') || setweight(to_tsvector(ts_config, content), 'D')
      ) stored;
      create index chunks_tsv_idx on knowledge.chunks using gin (tsv);
      create trigger chunks_ts_config before insert or update of document_id on knowledge.chunks
        for each row execute function knowledge.chunks_set_ts_config();
      create index documents_current_ready_idx on knowledge.documents (tenant_id)
        where status = 'READY' and is_current;
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop index knowledge.documents_current_ready_idx;
      drop trigger chunks_ts_config on knowledge.chunks;
      alter table knowledge.chunks drop column tsv, drop column ts_config;
      drop function knowledge.chunks_set_ts_config();
      drop function knowledge.text_search_config(text);
    `);
    this.addSql('reset role;');
  }
}
