import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { devServiceClientId } from '#kernel/auth/dev-issuer.ts';
import { DEFAULT_OPERATION_LIMITS, type OperationLimits } from '#kernel/graphql/limits/operation-limits.ts';
import {
  type RunningSubgraph,
  type SubgraphDefinition,
  type SubgraphOptions,
  startSubgraph,
} from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';

// A throwaway subgraph with a recursive entity list, served over HTTP as in production.
const SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
directive @requiresRole(anyOf: [String!]!) repeatable on FIELD_DEFINITION | OBJECT
type Node @key(fields: "id") @requiresRole(anyOf: ["Reader"]) { id: ID!, child: Node, children: [Node!]! }
type Query { node: Node @requiresRole(anyOf: ["Reader"]) }`;

const node = (id: string) => ({ id });
const resolvers = {
  Query: { node: () => node('1') },
  Node: {
    __resolveReference: (ref: { id: string }) => node(ref.id),
    child: (parent: { id: string }) => node(`${parent.id}.0`),
    children: (parent: { id: string }) => [0, 1, 2].map((i) => node(`${parent.id}.${i}`)),
  },
};

const PLATFORM_SERVICE = 'widgetdc-worker';
const ACME = devTenantId('acme');

let dir: string;
let db: TestDatabase;
let issuer: TestIssuer;
const running: RunningSubgraph[] = [];
let definition: SubgraphDefinition;

async function serve(
  options: Omit<Partial<SubgraphOptions>, 'limits'> & { limits?: Partial<OperationLimits> } = {},
) {
  const subgraph = await startSubgraph(definition, {
    databaseUrl: db.appUrl,
    auth: issuer.auth,
    autoProvisionTenants: true,
    host: '127.0.0.1',
    port: 0,
    introspection: false,
    poolMax: 2,
    logger: createLogger('test', { level: 'silent' }),
    serviceClientIds: [devServiceClientId(PLATFORM_SERVICE)],
    ...options,
    limits: { ...DEFAULT_OPERATION_LIMITS, ...options.limits },
  });
  running.push(subgraph);
  return subgraph;
}

async function post(url: string, token: string, query: string, variables?: Record<string, unknown>) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return { status: res.status, body };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wtdc-hardening-'));
  await writeFile(join(dir, 'schema.graphql'), SDL);
  definition = {
    name: 'agent',
    schema: pathToFileURL(join(dir, 'schema.graphql')),
    resolvers: resolvers as unknown as SubgraphDefinition['resolvers'],
    entities: [],
  };
  db = await createTestDatabase();
  issuer = await startTestIssuer();
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
  await issuer?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('operation limits straight at a subgraph (the gateway’s implementation)', () => {
  it('refuses past the depth limit with HTTP 400 and the gateway’s code and figures', async () => {
    const subgraph = await serve({ limits: { maxDepth: 3 } });
    const reader = await issuer.token('acme', 'rita', ['Reader']);
    expect((await post(subgraph.url, reader, '{ node { child { id } } }')).status).toBe(200);
    const res = await post(subgraph.url, reader, '{ node { child { child { id } } } }');
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        message: 'The query is nested 4 levels deep; the depth limit is 3. Ask for less nesting.',
        extensions: { code: 'QUERY_TOO_DEEP', limit: 'depth', found: 4, max: 3 },
      },
    ]);
  });

  it('prices recursive entity lists without `first`, so they cannot multiply without bound', async () => {
    const subgraph = await serve();
    const reader = await issuer.token('acme', 'rita', ['Reader']);
    // 3 levels: 1 + 1 + 20 × (1 + 20 × (1 + 20)) = 8 422 ≤ 10 000; 4 levels: far over.
    const nested = (levels: number): string => (levels === 0 ? 'id' : `children { ${nested(levels - 1)} }`);
    const ok = await post(subgraph.url, reader, `{ node { ${nested(3)} } }`);
    expect(ok.body.errors).toBeUndefined();
    const res = await post(subgraph.url, reader, `{ node { ${nested(4)} } }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({
      code: 'QUERY_TOO_COSTLY',
      limit: 'cost',
      max: 10_000,
    });
  });

  it('stops an execution that resolves more fields than allowed, whatever the estimate said', async () => {
    const subgraph = await serve({ limits: { maxResolvedFields: 30 } });
    const reader = await issuer.token('acme', 'rita', ['Reader']);
    // node 1 + id 1 + children 1 + 3 × (id 1 + children 1 + 3 × id 1) = 18 fields: within 30.
    const ok = await post(subgraph.url, reader, '{ node { id children { id children { id } } } }');
    expect(ok.body.errors).toBeUndefined();
    // One more level: 3 × 3 × 3 more `id`s and lists: past 30 while it runs.
    const res = await post(
      subgraph.url,
      reader,
      '{ node { id children { id children { id children { id } } } } }',
    );
    expect(res.body.data).toEqual({ node: null });
    expect(res.body.errors?.[0]).toMatchObject({
      message:
        'The result grew past 30 fields; the resolved-field limit is 30. Lists without `first` hold more items than the estimate assumed: ask for fewer items or less nesting.',
      extensions: { code: 'RESULT_TOO_LARGE', limit: 'resolved-field', found: 30, max: 30 },
    });
  });

  it('caps `_entities` representations per request with its own code', async () => {
    const subgraph = await serve({ limits: { maxEntities: 10 } });
    const reader = await issuer.token('acme', 'rita', ['Reader']);
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }';
    const r = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Node', id: `${i}` }));
    const ok = await post(subgraph.url, reader, query, { r: r(10) });
    expect(ok.body.data?._entities).toHaveLength(10);
    const res = await post(subgraph.url, reader, query, { r: r(11) });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      {
        message:
          'The request asks for 11 entity representations; the entities limit is 10. Resolve the entities in several smaller requests.',
        extensions: { code: 'TOO_MANY_ENTITIES', limit: 'entities', found: 11, max: 10 },
      },
    ]);
  });
});

describe('production mode at a subgraph', () => {
  it('gives no "Did you mean" suggestions in production, and does outside it', async () => {
    const reader = await issuer.token('acme', 'rita', ['Reader']);
    const development = await serve();
    const production = await serve({ production: true });
    const typo = '{ node { chld { id } } }';
    const dev = await post(development.url, reader, typo);
    expect(dev.body.errors?.[0]?.message).toBe(
      'Cannot query field "chld" on type "Node". Did you mean "child"?',
    );
    const prod = await post(production.url, reader, typo);
    expect(prod.status).toBe(400);
    expect(prod.body.errors?.[0]).toMatchObject({
      message: 'Cannot query field "chld" on type "Node".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it("answers `_service { sdl }` only to the platform's own service identities", async () => {
    const subgraph = await serve({ production: true });
    const query = '{ _service { sdl } }';
    const own = await post(subgraph.url, await issuer.serviceToken(PLATFORM_SERVICE, ACME), query);
    expect(own.body.errors).toBeUndefined();
    expect((own.body.data?._service as { sdl?: string } | undefined)?.sdl).toContain('type Node');
    for (const [who, token] of [
      ['an Admin user', await issuer.token('acme', 'ada', ['Admin'])],
      ['another service', await issuer.serviceToken('someone-else', ACME, ['Admin'])],
    ] as const) {
      const res = await post(subgraph.url, token, query);
      expect({ who, data: res.body.data, error: res.body.errors?.[0] }).toEqual({
        who,
        data: null,
        error: expect.objectContaining({
          message: "Query._service serves the subgraph's SDL to the platform's own service identities only",
          extensions: { code: 'FORBIDDEN' },
        }),
      });
    }
    const denied = await db.asSuperuser<{ outcome: string }>(
      "select outcome from audit.audit_events where action = 'agent._service'",
    );
    expect(denied.map((d) => d.outcome)).toEqual(['denied', 'denied']);
  });
});
