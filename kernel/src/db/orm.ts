import { type AnyEntity, type EntitySchema, MikroORM, type Options } from '@mikro-orm/postgresql';
import { DEFAULT_DB_POOL_MAX } from '../config.ts';
import type { Logger } from '../logger.ts';
import { piggybackBeginPool } from './piggyback-begin.ts';

/** Options of {@link createOrm}. */
export interface OrmOptions {
  url: string;
  // biome-ignore lint/suspicious/noExplicitAny: entity schemas of any shape
  entities: EntitySchema<any, any>[];
  poolMax?: number;
  logger?: Logger;
  /** Extra MikroORM options (tests, migrations). */
  extra?: Partial<Options>;
}

/** Opens a MikroORM instance; callers own it and must `close()` it. There is no global ORM. */
export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  const log = options.logger;
  return MikroORM.init({
    clientUrl: options.url,
    entities: options.entities as AnyEntity[],
    pool: { min: 0, max: options.poolMax ?? DEFAULT_DB_POOL_MAX },
    // BEGIN travels with each transaction's first statement (the tenant's set_config).
    driverOptions: piggybackBeginPool,
    // The global EntityManager must never run queries: every unit of work forks one with a tenant context.
    allowGlobalContext: false,
    discovery: { warnWhenNoEntities: false },
    debug: log ? ['query'] : false,
    logger: log ? (message: string) => log.debug(message) : undefined,
    ...options.extra,
  } as Options);
}
