// Apollo GraphOS (Studio): with a key and a graph ref the gateway sends Apollo's usage reports
// (operation signatures, and traces holding every subgraph's field timings) and its supergraph to
// the configured endpoints, here a local server that speaks Apollo's ingress protocols. What leaves
// is shapes and timings: never a token, a variable's value or an error message. Without settings the
// plugins are installed disabled, so a stray APOLLO_KEY turns nothing on.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Report, type Trace } from '@apollo/usage-reporting-protobuf';
import { createLogger } from '#kernel/logger.ts';
import { loadGatewayConfig } from '../../src/config.ts';
import { apolloStudioPlugins } from '../../src/studio/apollo-studio.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';

const KEY = 'service:widgetdc-test:0123456789abcdef';
const GRAPH_REF = 'widgetdc-test@current';
const SECRET_TITLE = 'secret-title-7f3a';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Apollo's usage ingress (gzipped protobuf reports) and schema reporting (a GraphQL mutation). */
async function startFakeApollo(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.url === '/api/graphql') {
        const { variables } = JSON.parse(body.toString('utf8')) as {
          variables: { coreSchema: string | null };
        };
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            data: {
              reportSchema: {
                __typename: 'ReportSchemaResponse',
                // Asks for the schema itself, at once, after a report of its hash only, as Apollo does.
                inSeconds: variables.coreSchema === null ? 0 : 3600,
                withCoreSchema: variables.coreSchema === null,
              },
            },
          }),
        );
        return;
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}`, received };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('reporting to Apollo GraphOS', () => {
  let apollo: Awaited<ReturnType<typeof startFakeApollo>>;
  let platform: TestPlatform;
  let token: string;

  beforeAll(async () => {
    apollo = await startFakeApollo();
    platform = await startTestPlatform({
      apolloStudio: {
        key: KEY,
        graphRef: GRAPH_REF,
        usageEndpoint: apollo.url,
        schemaEndpoint: `${apollo.url}/api/graphql`,
        reportIntervalMs: 200,
        schemaInitialDelayMaxMs: 0,
      },
    });
    token = await platform.issuer.token('acme', 'alice', ['Admin']);
  });
  afterAll(async () => {
    await platform?.close();
    await new Promise((done) => apollo?.server.close(done));
  });

  it('reports each operation with a trace that holds the subgraphs’ field timings, and nothing of its data', async () => {
    const created = await platform.post(
      {
        query: 'mutation CreateSecret($t: String!) { createTask(input: { title: $t }) { id } }',
        variables: { t: SECRET_TITLE },
      },
      token,
    );
    expect(created.body.errors).toBeUndefined();
    const joined = await platform.post(
      { query: 'query JoinedTasks { tasks { edges { node { title approvals { id status } } } } }' },
      token,
    );
    expect(joined.body.errors).toBeUndefined();
    // A refusal with a message naming the roles (a Reader cannot create tasks).
    const reader = await platform.issuer.token('acme', 'rita', ['Reader']);
    const refused = await platform.post(
      { query: 'mutation Refused { createTask(input: { title: "no" }) { id } }' },
      reader,
    );
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const reports = () =>
      apollo.received
        .filter((r) => r.path === '/api/ingress/traces')
        .map((r) => ({ headers: r.headers, report: Report.decode(gunzipSync(r.body)) }));
    const traced = (operation: string) =>
      reports()
        .flatMap(({ report }) =>
          Object.entries(report.tracesPerQuery).filter(([key]) => key.startsWith(`# ${operation}\n`)),
        )
        .flatMap(([, traces]) => traces.trace ?? [])
        .find((t): t is Trace => !(t instanceof Uint8Array));
    const joinedTrace = await until('a trace of JoinedTasks', () => traced('JoinedTasks'));
    const refusedTrace = await until('a trace of Refused', () => traced('Refused'));
    await until('a trace of CreateSecret', () => traced('CreateSecret'));

    const [first] = reports();
    expect(first?.headers['x-api-key']).toBe(KEY);
    expect(first?.report.header?.graphRef).toBe(GRAPH_REF);

    // The query plan's fetches carry each subgraph's own trace (ftv1), with its resolved fields.
    const fetches: { serviceName: string; fields: string[] }[] = [];
    const walk = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      const fetch = n.fetch as { serviceName?: string; trace?: { root?: unknown } } | undefined;
      if (fetch?.serviceName) {
        const fields: string[] = [];
        const collect = (t: unknown) => {
          const tn = t as { responseName?: string; child?: unknown[] } | undefined;
          if (tn?.responseName) fields.push(tn.responseName);
          for (const c of tn?.child ?? []) collect(c);
        };
        collect(fetch.trace?.root);
        fetches.push({ serviceName: fetch.serviceName, fields });
      }
      for (const value of Object.values(n)) {
        if (Array.isArray(value)) value.forEach(walk);
        else if (value && typeof value === 'object') walk(value);
      }
    };
    walk(joinedTrace.queryPlan);
    expect(fetches.map((f) => f.serviceName).sort()).toEqual(['agent', 'governance']);
    expect(fetches.find((f) => f.serviceName === 'agent')?.fields).toEqual(
      expect.arrayContaining(['tasks', 'edges', 'title']),
    );

    // The refusal is reported as an error (in the agent subgraph's trace), its message masked.
    const errors: string[] = [];
    const collectErrors = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        if (key === 'error' && Array.isArray(value))
          for (const e of value as { message?: string }[]) if (e.message) errors.push(e.message);
        if (Array.isArray(value)) value.forEach(collectErrors);
        else collectErrors(value);
      }
    };
    collectErrors(refusedTrace);
    expect(errors).toEqual(['<masked>']);

    // Nothing of the data leaves: no token, no variable value, no error text, no request header.
    const everything = reports()
      .map(({ report }) => JSON.stringify(Report.toObject(report)))
      .join('\n');
    for (const leak of [token, reader, SECRET_TITLE, 'Bearer', 'FORBIDDEN', 'Contributor'])
      expect(everything).not.toContain(leak);
    expect(joinedTrace.http?.requestHeaders ?? {}).toEqual({});
  });

  it('reports the supergraph it serves', async () => {
    const withSchema = await until('a schema report with the schema', () =>
      apollo.received
        .filter((r) => r.path === '/api/graphql')
        .map((r) => ({
          headers: r.headers,
          variables: (
            JSON.parse(r.body.toString('utf8')) as {
              variables: { report: { graphRef: string }; coreSchema: string | null };
            }
          ).variables,
        }))
        .find((r) => r.variables.coreSchema !== null),
    );
    expect(withSchema.headers['x-api-key']).toBe(KEY);
    expect(withSchema.variables.report.graphRef).toBe(GRAPH_REF);
    expect(withSchema.variables.coreSchema).toContain('join__Graph');
    expect(withSchema.variables.coreSchema).toContain('createTask');
  });
});

describe('without Apollo settings', () => {
  it('reads APOLLO_KEY and APOLLO_GRAPH_REF together, refusing one without the other or a malformed ref', () => {
    expect(loadGatewayConfig({}).apolloStudio).toBeUndefined();
    expect(
      loadGatewayConfig({
        APOLLO_KEY: KEY,
        APOLLO_GRAPH_REF: GRAPH_REF,
        APOLLO_USAGE_REPORTING_ENDPOINT: 'https://usage.example.com',
      }).apolloStudio,
    ).toEqual({ key: KEY, graphRef: GRAPH_REF, usageEndpoint: 'https://usage.example.com' });
    expect(() => loadGatewayConfig({ APOLLO_KEY: KEY })).toThrow(
      'APOLLO_GRAPH_REF must be set with APOLLO_KEY: the graph and variant to report to, as my-graph@current',
    );
    expect(() => loadGatewayConfig({ APOLLO_GRAPH_REF: GRAPH_REF })).toThrow(
      "APOLLO_KEY must be set with APOLLO_GRAPH_REF: the graph's API key from Apollo Studio",
    );
    expect(() => loadGatewayConfig({ APOLLO_KEY: KEY, APOLLO_GRAPH_REF: 'no-variant' })).toThrow(
      'APOLLO_GRAPH_REF must be a graph id and a variant, as my-graph@current (got "no-variant")',
    );
  });

  it('installs both reporting plugins disabled, so Apollo Server cannot turn them on from the environment', () => {
    const plugins = apolloStudioPlugins(undefined, createLogger('test', { level: 'silent' })) as {
      __internal_plugin_id__?: string;
    }[];
    expect(plugins.map((p) => p.__internal_plugin_id__).sort()).toEqual([
      'SchemaReporting',
      'UsageReporting',
    ]);
    // A disabled plugin has no hooks: it only occupies the slot Apollo Server would fill.
    for (const plugin of plugins) {
      expect(plugin).toMatchObject({ __is_disabled_plugin__: true });
      expect(Object.keys(plugin).filter((k) => !k.startsWith('__'))).toEqual([]);
    }
  });
});
