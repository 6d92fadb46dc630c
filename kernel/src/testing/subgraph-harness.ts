import type { ApolloServer } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import { devTenantId, devUserId } from '../auth/dev-ids.ts';
import type { Identity } from '../auth/identity.ts';
import { createOrm } from '../db/orm.ts';
import { withTenant } from '../db/tenant-context.ts';
import type { StreamTransport } from '../events/transport.ts';
import { type RequestContext, requestContext } from '../graphql/context.ts';
import { createSubgraphApollo, type SubgraphDefinition } from '../graphql/subgraph.ts';
import { createLogger } from '../logger.ts';
import type { TestDatabase } from './test-database.ts';

/** The result of one operation: data and errors as a client would see them. */
export interface OperationResult {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A subgraph's schema and resolvers on a test database, executed without HTTP. */
export interface SubgraphHarness {
  readonly orm: MikroORM;
  /** Registers a tenant (by slug) and returns an identity of `user` in it. */
  identity(tenant: string, user?: string, roles?: string[]): Promise<Identity>;
  execute(identity: Identity, query: string, variables?: Record<string, unknown>): Promise<OperationResult>;
  close(): Promise<void>;
}

/** Platform services a harness hands to resolvers, as a served subgraph would. */
export interface HarnessOptions {
  /** Tenants whose identities count as platform operators. */
  operatorTenantIds?: readonly string[];
  /** The event bus's transport. */
  events?: StreamTransport;
}

/** Builds a harness for `definition`; resolvers run exactly as in the served subgraph. */
export async function createSubgraphHarness(
  definition: SubgraphDefinition,
  db: TestDatabase,
  options: HarnessOptions = {},
): Promise<SubgraphHarness> {
  const orm = await createOrm({ url: db.appUrl, entities: definition.entities, poolMax: 4 });
  const apollo: ApolloServer<RequestContext> = await createSubgraphApollo(definition, {
    introspection: false,
    logger: createLogger(definition.name, {
      level: process.env.WIDGETDC_TEST_LOG === 'debug' ? 'debug' : 'silent',
    }),
  });
  await apollo.start();
  return {
    orm,
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
        { contextValue: requestContext(identity, { orm, ...options }, 'test') },
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
