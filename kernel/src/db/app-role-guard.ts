import type { MikroORM } from '@mikro-orm/postgresql';
import { ConfigError } from '../errors.ts';
import { PLATFORM_SCHEMAS } from './roles.ts';

interface RoleFacts {
  role: string;
  superuser: boolean;
  bypassrls: boolean;
  owned: number;
}

/**
 * Refuses to start a service whose connection could bypass row-level security: a superuser, a role
 * with BYPASSRLS, or one that owns platform tables (owners are exempt unless FORCE is set, and could
 * drop the policies). Runs once at start-up.
 */
export async function assertApplicationRole(orm: MikroORM): Promise<void> {
  const [facts] = await orm.em
    .fork()
    .getConnection()
    .execute<RoleFacts[]>(
      `select current_user as role, r.rolsuper as superuser, r.rolbypassrls as bypassrls,
            (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relowner = r.oid and n.nspname = any(string_to_array(?, ','))) as owned
       from pg_roles r where r.rolname = current_user`,
      [PLATFORM_SCHEMAS.join(',')],
    );
  if (!facts) throw new ConfigError([`DATABASE_URL: cannot read the connected role's attributes`]);
  const problems: string[] = [];
  if (facts.superuser) problems.push(`DATABASE_URL connects as "${facts.role}", a superuser`);
  if (facts.bypassrls) problems.push(`DATABASE_URL connects as "${facts.role}", which has BYPASSRLS`);
  if (facts.owned > 0)
    problems.push(`DATABASE_URL connects as "${facts.role}", which owns ${facts.owned} platform tables`);
  if (problems.length > 0) {
    problems.push(
      'services must connect as the application role widgetdc_app (see README: "Running against real servers")',
    );
    throw new ConfigError(problems);
  }
}
