import { Migration } from '@mikro-orm/migrations';

/**
 * Approvals bound to the exact call: a request opened for a task's step records the tool, its full
 * arguments, their SHA-256 digest, the policy version, how many distinct approvers it needs, who has
 * approved so far, and when it expires. Expired requests of every tenant are found through one
 * SECURITY DEFINER function that reveals only tenant ids, so the sweeper can work tenant by tenant.
 */
export class Migration20261202162000_approvals_bound_to_calls extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      alter table governance.approval_requests
        add column step_id uuid,
        add column tool text check (length(tool) between 1 and 100),
        add column arguments jsonb,
        add column digest text check (digest ~ '^[0-9a-f]{64}$'),
        add column policy_version integer check (policy_version >= 0),
        add column required_approvals integer not null default 1 check (required_approvals between 1 and 5),
        add column approvals jsonb not null default '[]'::jsonb,
        add column expires_at timestamptz(3),
        add constraint approval_requests_bound_call check (
          step_id is null or (tool is not null and arguments is not null and digest is not null
            and policy_version is not null and expires_at is not null));
      create unique index approval_requests_step_call_idx
        on governance.approval_requests (tenant_id, step_id, digest, policy_version) where step_id is not null;
      create index approval_requests_pending_expiry_idx
        on governance.approval_requests (expires_at) where status = 'PENDING' and expires_at is not null;

      create function governance.tenants_with_expired_approvals(p_now timestamptz)
      returns setof uuid language sql stable security definer set search_path = pg_catalog, governance as $$
        select distinct tenant_id from governance.approval_requests
         where status = 'PENDING' and expires_at is not null and expires_at <= p_now
      $$;
      revoke all on function governance.tenants_with_expired_approvals(timestamptz) from public;
      grant execute on function governance.tenants_with_expired_approvals(timestamptz) to widgetdc_app;
    `);
    // The function reads every tenant's rows: as owner it needs a policy that lets it.
    this.addSql(`
      create policy expiry_sweep on governance.approval_requests for select to widgetdc_owner using (true);
    `);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop policy if exists expiry_sweep on governance.approval_requests;
      drop function if exists governance.tenants_with_expired_approvals(timestamptz);
      drop index if exists governance.approval_requests_step_call_idx;
      drop index if exists governance.approval_requests_pending_expiry_idx;
      alter table governance.approval_requests drop constraint if exists approval_requests_bound_call,
        drop column if exists step_id, drop column if exists tool, drop column if exists arguments,
        drop column if exists digest, drop column if exists policy_version,
        drop column if exists required_approvals, drop column if exists approvals,
        drop column if exists expires_at;
    `);
    this.addSql('reset role;');
  }
}
