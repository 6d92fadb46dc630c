import { stripVTControlCharacters } from 'node:util';
import type { ApolloServer } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { type RequestContext, requestContext } from '#kernel/graphql/context.ts';
import { createSubgraphApollo, type SubgraphDefinition } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import type { TestDatabase } from './test-database.ts';

/** The result of one operation: data and errors as a client would see them. */
export interface OperationResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A subgraph's schema and resolvers on a test database, executed without HTTP. */
export interface SubgraphHarness {
  readonly orm: MikroORM;
  /** Every SQL statement the ORM sent, in order, when created with `recordSql` (empty otherwise); clear it freely. */
  readonly sql: string[];
  /** Registers a tenant (by slug) and returns an identity of `user` in it. */
  identity(tenant: string, user?: string, roles?: string[]): Promise<Identity>;
  execute(identity: Identity, query: string, variables?: Record<string, unknown>): Promise<OperationResult>;
  close(): Promise<void>;
}

/** Platform services a harness hands to resolvers, as a served subgraph would. */
export interface HarnessOptions {
  /** Tenants whose identities count as platform operators. */
  operatorTenantIds?: readonly string[];
  /** Records every SQL statement in {@link SubgraphHarness.sql} (to count the queries an operation costs). */
  recordSql?: boolean;
}

/** Builds a harness for `definition`; resolvers run exactly as in the served subgraph. */
export async function createSubgraphHarness(
  definition: SubgraphDefinition,
  db: TestDatabase,
  options: HarnessOptions = {},
): Promise<SubgraphHarness> {
  const sql: string[] = [];
  const orm = await createOrm({
    url: db.appUrl,
    entities: definition.entities,
    poolMax: 4,
    // MikroORM's query log: one message per statement, "[query] <sql> [took …]".
    extra: options.recordSql
      ? { debug: ['query'], logger: (message: string) => sql.push(stripVTControlCharacters(message)) }
      : {},
  });
  const apollo: ApolloServer<RequestContext> = await createSubgraphApollo(definition, {
    introspection: false,
    logger: createLogger(definition.name, {
      level: process.env.WIDGETDC_TEST_LOG === 'debug' ? 'debug' : 'silent',
    }),
  });
  await apollo.start();
  return {
    orm,
    sql,
    async identity(tenant, user = 'alice', roles = ['Admin']) {
      const tenantId = devTenantId(tenant);
      await withTenant(orm, tenantId, (em) =>
        em.execute(
          'insert into platform.tenants (id, slug, display_name) values (?, ?, ?) on conflict do nothing',
          [tenantId, tenant, tenant],
        ),
      );
      return {
        tenantId,
        subjectId: devUserId(tenant, user),
        kind: 'user',
        displayName: `${user}@${tenant}`,
        roles,
        scopes: ['access_as_user'],
      };
    },
    async execute(identity, query, variables) {
      const response = await apollo.executeOperation(
        { query, variables },
        {
          contextValue: requestContext(
            identity,
            { orm, operatorTenantIds: options.operatorTenantIds },
            'test',
          ),
        },
      );
      if (response.body.kind !== 'single') throw new Error('expected a single result');
      return JSON.parse(JSON.stringify(response.body.singleResult)) as OperationResult;
    },
    async close() {
      await apollo.stop();
      await orm.close();
    },
  };
}
