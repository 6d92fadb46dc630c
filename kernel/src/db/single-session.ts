import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Whether the database serves every connection from one session (the embedded PGlite, whose socket
 * server runs one connection's transaction to its end before any other connection's statement). A
 * second connection then cannot commit while a transaction is open, so work that must become
 * visible during one cannot be written beside it. Read from `version()`, which names PGlite.
 */
export async function isSingleSession(em: EntityManager): Promise<boolean> {
  const [row] = await em.execute<{ version: string }[]>('select version() as version');
  return /\bPGlite\b/.test(row?.version ?? '');
}
