import { Migration } from '@mikro-orm/migrations';

/**
 * Zero trust: the audit log becomes a per-tenant hash chain with actor, on-behalf-of, outcome,
 * request and trace ids and a redacted input summary; approvals record who asked and why.
 *
 * The chain is kept by a BEFORE INSERT trigger, so no caller can choose `seq`, `prev_hash` or
 * `hash`: it takes a per-tenant advisory lock (rows of one tenant are chained serially), reads the
 * tenant's last row and hashes the new row together with its predecessor's hash.
 */
export class Migration20261126010000_zero_trust extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');

    this.addSql(`
      alter table audit.audit_events
        add column seq bigint,
        add column actor_kind text not null default 'user' check (actor_kind in ('user', 'service')),
        add column actor_id text not null default '',
        add column on_behalf_of text check (length(on_behalf_of) <= 300),
        add column outcome text not null default 'success' check (outcome in ('success', 'denied', 'failed')),
        add column request_id text check (length(request_id) <= 64),
        add column trace_id text check (length(trace_id) <= 64),
        add column input_summary jsonb,
        add column prev_hash text,
        add column hash text;
      alter table audit.audit_events
        add constraint audit_events_action_len check (length(action) between 1 and 200),
        add constraint audit_events_target_type_len check (length(target_type) between 1 and 100),
        add constraint audit_events_input_summary_size check (pg_column_size(input_summary) <= 16384);

      -- The text a row's hash covers: every recorded field, in a fixed order, as a JSON array.
      create function audit.row_hash(
        prev_hash text, id uuid, tenant_id uuid, seq bigint, actor_kind text, actor_id text,
        actor text, on_behalf_of text, action text, target_type text, target_id text, outcome text,
        request_id text, trace_id text, at timestamptz, input_summary jsonb
      ) returns text language sql stable parallel safe as $$
        select encode(sha256(convert_to(jsonb_build_array(
          prev_hash, id, tenant_id, seq, actor_kind, actor_id, actor, on_behalf_of, action,
          target_type, target_id, outcome, request_id, trace_id,
          to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), input_summary
        )::text, 'UTF8')), 'hex')
      $$;

      create function audit.chain_row() returns trigger language plpgsql as $$
      declare
        last record;
      begin
        perform pg_advisory_xact_lock(hashtextextended('audit.audit_events:' || new.tenant_id::text, 0));
        select e.seq, e.hash into last from audit.audit_events e
          where e.tenant_id = new.tenant_id order by e.seq desc limit 1;
        new.seq := coalesce(last.seq, 0) + 1;
        new.prev_hash := coalesce(last.hash, repeat('0', 64));
        new.at := date_trunc('milliseconds', clock_timestamp());
        new.hash := audit.row_hash(
          new.prev_hash, new.id, new.tenant_id, new.seq, new.actor_kind, new.actor_id, new.actor,
          new.on_behalf_of, new.action, new.target_type, new.target_id, new.outcome, new.request_id,
          new.trace_id, new.at, new.input_summary);
        return new;
      end $$;
    `);

    // Chain the rows written before this migration, oldest first, per tenant. The owner role is
    // subject to FORCE ROW LEVEL SECURITY, so the backfill lifts FORCE (and the update guard) briefly.
    this.addSql(`
      alter table audit.audit_events no force row level security;
      alter table audit.audit_events disable trigger audit_events_no_update;
      do $$
      declare
        r record;
        prev text;
        n bigint;
        current_tenant uuid;
      begin
        for r in select id, tenant_id from audit.audit_events order by tenant_id, at, id loop
          if current_tenant is distinct from r.tenant_id then
            current_tenant := r.tenant_id; prev := repeat('0', 64); n := 0;
          end if;
          n := n + 1;
          update audit.audit_events set seq = n, prev_hash = prev, actor_id = actor where id = r.id;
          select audit.row_hash(prev, e.id, e.tenant_id, e.seq, e.actor_kind, e.actor_id, e.actor,
            e.on_behalf_of, e.action, e.target_type, e.target_id, e.outcome, e.request_id, e.trace_id,
            e.at, e.input_summary) into prev from audit.audit_events e where e.id = r.id;
          update audit.audit_events set hash = prev where id = r.id;
        end loop;
      end $$;
      alter table audit.audit_events enable trigger audit_events_no_update;
      alter table audit.audit_events force row level security;
    `);

    this.addSql(`
      alter table audit.audit_events
        alter column seq set not null,
        alter column prev_hash set not null,
        alter column hash set not null,
        alter column actor_id drop default;
      create unique index audit_events_tenant_seq_idx on audit.audit_events (tenant_id, seq);
      create index audit_events_tenant_actor_idx on audit.audit_events (tenant_id, actor_id, at desc);
      create index audit_events_tenant_target_idx on audit.audit_events (tenant_id, target_type, target_id);
      create trigger audit_events_chain before insert on audit.audit_events
        for each row execute function audit.chain_row();
      grant execute on function audit.row_hash(text, uuid, uuid, bigint, text, text, text, text, text, text, text, text, text, text, timestamptz, jsonb) to widgetdc_app;
    `);

    this.addSql(`
      alter table governance.approval_requests
        add column reason text not null default '' check (length(reason) <= 2000),
        add column requested_by_name text not null default '' check (length(requested_by_name) <= 300),
        add column decided_by_name text check (length(decided_by_name) <= 300),
        add column decision_comment text check (length(decision_comment) <= 2000);
      alter table governance.approval_requests
        add constraint approval_requests_decider_not_requester check (decided_by is null or decided_by <> requested_by);
      alter table governance.kill_switches
        add column changed_at timestamptz(3);

      -- The agent schema's published contract for other subgraphs: whether a task exists in the
      -- caller's tenant (security invoker, so row-level security decides what "exists" means).
      create function agent.task_exists(task_id uuid) returns boolean
        language sql stable security invoker set search_path = pg_catalog as $$
          select exists (select 1 from agent.tasks where id = task_id)
        $$;
      grant execute on function agent.task_exists(uuid) to widgetdc_app;
    `);

    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql(`
      drop trigger if exists audit_events_chain on audit.audit_events;
      drop function if exists audit.chain_row();
      drop function if exists audit.row_hash(text, uuid, uuid, bigint, text, text, text, text, text, text, text, text, text, text, timestamptz, jsonb);
      alter table governance.approval_requests
        drop constraint if exists approval_requests_decider_not_requester,
        drop column if exists reason, drop column if exists requested_by_name,
        drop column if exists decided_by_name, drop column if exists decision_comment;
      alter table governance.kill_switches drop column if exists changed_at;
      drop function if exists agent.task_exists(uuid);
    `);
  }
}
