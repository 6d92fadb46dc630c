import type { EntityManager } from '@mikro-orm/postgresql';
import { isUuid } from '#kernel/ids.ts';
import { UnrecoverableError } from '../../errors.ts';
import type { WorkItem } from './work-item.ts';

/**
 * Records the events' ids as processed for `group` with one statement; returns the ids (lower
 * case) that were new. Literals, not parameters: the ids are validated UUIDs and the group is a
 * checked name ([a-z0-9-]), so the statement is safe, and without parameters node-postgres sends
 * one simple-protocol message instead of five extended-protocol ones (the hot path).
 */
export async function recordProcessed(
  em: EntityManager,
  tenantId: string,
  group: string,
  items: readonly WorkItem[],
): Promise<Set<string>> {
  const tenant = uuidLiteral(tenantId);
  const rows = await em.execute<{ event_id: string }[]>(
    `insert into platform.processed_events (tenant_id, consumer_group, event_id)
     values ${items.map(({ event }) => `('${tenant}', '${group}', '${uuidLiteral(event.id)}')`).join(', ')}
     on conflict do nothing returning event_id`,
  );
  return new Set(rows.map((row) => row.event_id.toLowerCase()));
}

function uuidLiteral(value: string): string {
  if (!isUuid(value)) throw new UnrecoverableError(`"${value}" is not a UUID`);
  return value;
}
