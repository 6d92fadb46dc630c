import { readFile } from 'node:fs/promises';
import { createOrm } from '#kernel/db/orm.ts';
import { type RunningSubgraph, type SubgraphDefinition, startSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger, type Logger } from '#kernel/logger.ts';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';
import { agentSubgraph } from '../../../subgraphs/agent/src/subgraph.ts';
import { auditSubgraph } from '../../../subgraphs/audit/src/subgraph.ts';
import { graphTaskLookup, httpGraphRequest } from '../../../subgraphs/governance/src/domain/task-lookup.ts';
import { governanceSubgraph } from '../../../subgraphs/governance/src/subgraph.ts';
import { knowledgeSubgraph } from '../../../subgraphs/knowledge/src/subgraph.ts';
import { SUPERGRAPH_FILE } from '../../src/compose.ts';
import type { SubgraphName } from '../../src/config.ts';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';
import type { ApolloStudioSettings } from '../../src/studio/apollo-studio.ts';

/** The whole graph in this process: a test database, an issuer, four subgraphs and the gateway. */
export interface TestPlatform {
  db: TestDatabase;
  issuer: TestIssuer;
  subgraphs: Record<SubgraphName, RunningSubgraph>;
  gateway: RunningGateway;
  /** POSTs a GraphQL operation to `url` (the gateway by default) with an optional bearer token. */
  post(
    body: { query: string; variables?: Record<string, unknown> },
    token?: string,
    url?: string,
  ): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

/** What came back over HTTP. */
export interface GraphQLResponse {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

/** Options of {@link startTestPlatform}; the defaults suit tests (the bench raises the pool). */
export interface TestPlatformOptions {
  kind?: TestDatabaseKind;
  poolMax?: number;
  logger?: Logger;
  /** Register unknown tenants on first use (default true, as in development). */
  autoProvisionTenants?: boolean;
  /** The knowledge subgraph to run (another configuration); the environment's by default. */
  knowledge?: SubgraphDefinition;
  /** The audit subgraph to run (e.g. with a chat model for replays); the default one otherwise. */
  audit?: SubgraphDefinition;
  /** Whether the gateway answers introspection (default false, as in production). */
  introspection?: boolean;
  /** Reports to Apollo GraphOS (a fake one in tests); none when absent. */
  apolloStudio?: ApolloStudioSettings;
  /** Tenants whose Admins operate the platform (OPERATOR_TENANT_IDS); none by default. */
  operatorTenantIds?: readonly string[];
}

/** Starts the platform on free ports; by default tenants register on first use as in development. */
export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const db = await createTestDatabase(options.kind);
  const issuer = await startTestIssuer();
  const logger = options.logger ?? createLogger('test', { level: 'silent' });
  const start = (definition: SubgraphDefinition) =>
    startSubgraph(definition, {
      databaseUrl: db.appUrl,
      auth: issuer.auth,
      autoProvisionTenants: options.autoProvisionTenants ?? true,
      host: '127.0.0.1',
      port: 0,
      introspection: false,
      poolMax: options.poolMax ?? 4,
      ...(options.operatorTenantIds ? { operatorTenantIds: options.operatorTenantIds } : {}),
      logger: logger.child(definition.name),
    });
  // Governance asks the agent subgraph whether tasks exist, so the agent subgraph starts first.
  const agent = await start(agentSubgraph);
  const running = [
    agent,
    ...(await Promise.all(
      [
        options.knowledge ?? knowledgeSubgraph,
        governanceSubgraph({ tasks: graphTaskLookup(httpGraphRequest(agent.url)) }),
        options.audit ?? auditSubgraph,
      ].map(start),
    )),
  ];
  const subgraphs = Object.fromEntries(running.map((s) => [s.name, s])) as Record<
    SubgraphName,
    RunningSubgraph
  >;
  // The gateway audits its own refusals (ADR 0013) through a small pool of its own.
  const auditOrm = await createOrm({ url: db.appUrl, entities: [], poolMax: 2 });
  const gateway = await startGateway({
    supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(running.map((s) => [s.name, s.url])),
    auth: issuer.auth,
    host: '127.0.0.1',
    port: 0,
    introspection: options.introspection ?? false,
    apolloTelemetry: false,
    logger: logger.child('gateway'),
    auditOrm,
    ...(options.apolloStudio ? { apolloStudio: options.apolloStudio } : {}),
  });
  return {
    db,
    issuer,
    subgraphs,
    gateway,
    async post(body, token, url = gateway.url) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as GraphQLResponse['body'] };
    },
    async close() {
      await gateway.close();
      await Promise.all(running.map((s) => s.close()));
      await auditOrm.close();
      await issuer.close();
      await db.close();
    },
  };
}
