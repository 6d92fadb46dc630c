import type { Keyset, PageRequest } from '../graphql/connection.ts';

/** What {@link keysetPage} needs of a repository (any MikroORM `EntityRepository`; rows typed by the caller). */
export interface PageableRepository {
  find(where: object, options: { orderBy: object; limit: number }): Promise<object[]>;
}

/** Options of {@link keysetPage}. */
export interface KeysetPageOptions<T> {
  /** The timestamp property the list is ordered by, newest first (ties broken by `id`). Default `createdAt`. */
  at?: keyof T & string;
  /** Further conditions every row must meet (filters of the list). */
  where?: object;
}

/**
 * One page of a newest-first list: up to `first + 1` rows after the page's cursor in
 * (`at` desc, `id` desc) order; the extra row only tells {@link toConnection} that a next page exists.
 * Keyset, not offset: a page costs the same however deep it is, and rows inserted meanwhile do not
 * shift it. An index on (tenant_id, `at` desc, id desc) serves it.
 */
export function keysetPage<T extends object>(
  repository: PageableRepository,
  page: PageRequest,
  options: KeysetPageOptions<T> = {},
): Promise<T[]> {
  const at = options.at ?? 'createdAt';
  const conditions = [afterKeyset(page.after, at), options.where ?? {}];
  const rows = repository.find(
    { $and: conditions },
    { orderBy: { [at]: 'desc', id: 'desc' }, limit: page.first + 1 },
  );
  return rows as Promise<T[]>;
}

/** MikroORM filter for rows after a keyset position in (`at` desc, id desc) order. */
export function afterKeyset(after: Keyset | undefined, at = 'createdAt'): Record<string, unknown> {
  if (!after) return {};
  return { $or: [{ [at]: { $lt: after.at } }, { [at]: after.at, id: { $lt: after.id } }] };
}
