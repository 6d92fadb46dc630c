import { Migration } from '@mikro-orm/migrations';

/**
 * The platform-wide kill switch (ADR 0029). Two one-row tables outside any tenant: governance's
 * switch (engaged by Admins of an operator tenant) and the runners' copy of it in agent's schema,
 * kept from governance's `killswitch.changed` events of scope PLATFORM. Every tenant may read both
 * (a policy `using (true)` for select); the application role may not write either: each is changed
 * only through a SECURITY DEFINER function that changes nothing else. The runners find the tenants
 * whose tasks a change touches through one more function that returns tenant ids and nothing else;
 * their tasks are then read under each tenant's own RLS setting.
 */
export class Migration20261204190000_platform_kill_switch extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create table governance.platform_kill_switch (
        id boolean primary key default true check (id),
        engaged boolean not null default false,
        engaged_by text check (length(engaged_by) <= 300),
        engaged_by_tenant uuid,
        engaged_at timestamptz(3),
        reason text check (length(reason) <= 1000),
        changed_at timestamptz(3)
      );
      insert into governance.platform_kill_switch (id) values (true);
      alter table governance.platform_kill_switch enable row level security;
      alter table governance.platform_kill_switch force row level security;
      create policy read_by_all on governance.platform_kill_switch for select using (true);
      create policy changed_by_owner on governance.platform_kill_switch for all to widgetdc_owner
        using (true) with check (true);
      grant select on governance.platform_kill_switch to widgetdc_app;

      -- Engages (p_engaged) or releases the switch; false when it already was so. The tenant that
      -- changes it is the transaction's app.tenant_id (the operator's); the resolver has checked
      -- that this tenant operates the platform.
      create function governance.set_platform_kill_switch(p_engaged boolean, p_by text, p_reason text)
      returns boolean language plpgsql volatile security definer
      set search_path = pg_catalog, governance as $$
      declare
        current_state boolean;
      begin
        select engaged into current_state from governance.platform_kill_switch where id for update;
        if current_state = p_engaged then
          return false;
        end if;
        update governance.platform_kill_switch set
          engaged = p_engaged,
          engaged_by = case when p_engaged then p_by end,
          engaged_by_tenant = case when p_engaged then current_setting('app.tenant_id')::uuid end,
          engaged_at = case when p_engaged then clock_timestamp() end,
          reason = case when p_engaged then p_reason end,
          changed_at = clock_timestamp()
        where id;
        return true;
      end
      $$;
      revoke all on function governance.set_platform_kill_switch(boolean, text, text) from public;
      grant execute on function governance.set_platform_kill_switch(boolean, text, text) to widgetdc_app;

      create table agent.platform_kill_switch_state (
        id boolean primary key default true check (id),
        engaged boolean not null default false,
        reason text check (length(reason) <= 1000),
        changed_at timestamptz(3)
      );
      insert into agent.platform_kill_switch_state (id) values (true);
      alter table agent.platform_kill_switch_state enable row level security;
      alter table agent.platform_kill_switch_state force row level security;
      create policy read_by_all on agent.platform_kill_switch_state for select using (true);
      create policy changed_by_owner on agent.platform_kill_switch_state for all to widgetdc_owner
        using (true) with check (true);
      grant select on agent.platform_kill_switch_state to widgetdc_app;

      -- Applies a change the runners read from governance's event. True when it changed the copy;
      -- false for a change older than the copy or applied already (two groups read the event).
      create function agent.apply_platform_kill_switch(p_engaged boolean, p_reason text, p_changed_at timestamptz)
      returns boolean language plpgsql volatile security definer
      set search_path = pg_catalog, agent as $$
      begin
        update agent.platform_kill_switch_state
           set engaged = p_engaged, reason = p_reason, changed_at = p_changed_at
         where id and (changed_at is null or changed_at <= p_changed_at)
           and (changed_at, engaged) is distinct from (p_changed_at, p_engaged);
        return found;
      end
      $$;
      revoke all on function agent.apply_platform_kill_switch(boolean, text, timestamptz) from public;
      grant execute on function agent.apply_platform_kill_switch(boolean, text, timestamptz) to widgetdc_app;

      -- The tenants that have tasks in one of the statuses: ids only, no task is read across tenants.
      create function agent.tenants_with_tasks(p_statuses text[])
      returns setof uuid language sql stable security definer set search_path = pg_catalog, agent as $$
        select distinct tenant_id from agent.tasks where status = any(p_statuses)
      $$;
      revoke all on function agent.tenants_with_tasks(text[]) from public;
      grant execute on function agent.tenants_with_tasks(text[]) to widgetdc_app;
    `);
    // The function reads every tenant's tasks: as owner it needs a policy that lets it.
    this.addSql(`create policy kill_switch_sweep on agent.tasks for select to widgetdc_owner using (true);`);
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      drop policy if exists kill_switch_sweep on agent.tasks;
      drop function if exists agent.tenants_with_tasks(text[]);
      drop function if exists agent.apply_platform_kill_switch(boolean, text, timestamptz);
      drop table if exists agent.platform_kill_switch_state;
      drop function if exists governance.set_platform_kill_switch(boolean, text, text);
      drop table if exists governance.platform_kill_switch;
    `);
    this.addSql('reset role;');
  }
}
