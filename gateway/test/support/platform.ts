import { readFile } from 'node:fs/promises';
import type { SubgraphName } from '#kernel/config.ts';
import { type RunningSubgraph, startSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { createTestDatabase, type TestDatabase } from '#kernel/testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#kernel/testing/test-identity.ts';
import { agentSubgraph } from '../../../subgraphs/agent/src/subgraph.ts';
import { auditSubgraph } from '../../../subgraphs/audit/src/subgraph.ts';
import { governanceSubgraph } from '../../../subgraphs/governance/src/subgraph.ts';
import { knowledgeSubgraph } from '../../../subgraphs/knowledge/src/subgraph.ts';
import { SUPERGRAPH_FILE } from '../../src/compose.ts';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';

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

/** Starts the platform on free ports; tenants register on first use as in development. */
export async function startTestPlatform(): Promise<TestPlatform> {
  const db = await createTestDatabase();
  const issuer = await startTestIssuer();
  const logger = createLogger('test', { level: 'silent' });
  const definitions = [knowledgeSubgraph, agentSubgraph, governanceSubgraph, auditSubgraph];
  const running = await Promise.all(
    definitions.map((definition) =>
      startSubgraph(definition, {
        databaseUrl: db.appUrl,
        auth: issuer.auth,
        autoProvisionTenants: true,
        host: '127.0.0.1',
        port: 0,
        introspection: false,
        poolMax: 4,
        logger,
      }),
    ),
  );
  const subgraphs = Object.fromEntries(running.map((s) => [s.name, s])) as Record<
    SubgraphName,
    RunningSubgraph
  >;
  const gateway = await startGateway({
    supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(running.map((s) => [s.name, s.url])),
    auth: issuer.auth,
    host: '127.0.0.1',
    port: 0,
    introspection: false,
    apolloTelemetry: false,
    logger,
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
      await issuer.close();
      await db.close();
    },
  };
}
