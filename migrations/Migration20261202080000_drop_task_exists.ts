import { Migration } from '@mikro-orm/migrations';

/**
 * Governance no longer reads the agent schema: whether a task exists is asked of the agent
 * subgraph through the graph (an `_entities` query as the caller), so `agent.task_exists`, the one
 * cross-schema shortcut, goes.
 */
export class Migration20261202080000_drop_task_exists extends Migration {
  override async up(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql('drop function if exists agent.task_exists(uuid);');
    this.addSql('reset role;');
  }

  override async down(): Promise<void> {
    this.addSql('set local role widgetdc_owner;');
    this.addSql(`
      create function agent.task_exists(task_id uuid) returns boolean
        language sql stable security invoker set search_path = pg_catalog as $$
          select exists (select 1 from agent.tasks where id = task_id)
        $$;
      grant execute on function agent.task_exists(uuid) to widgetdc_app;
    `);
    this.addSql('reset role;');
  }
}
