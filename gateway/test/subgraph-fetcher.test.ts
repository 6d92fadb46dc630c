import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ConfigError, UnavailableError } from '#kernel/errors.ts';
import { AuthForwardingDataSource, SPOOFABLE_IDENTITY_HEADERS } from '../src/auth-forwarding-data-source.ts';
import type { GatewayContext } from '../src/context.ts';
import { createSubgraphFetcher, type SubgraphFetcher } from '../src/subgraph-fetcher.ts';
import { loadSubgraphFetcherConfig } from '../src/subgraph-fetcher-config.ts';

/** What the fake subgraph received. */
interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let url: string;
let received: Received[];
let connections: number;
/** How the fake subgraph answers the next requests; default: a GraphQL result. */
let answer: (res: ServerResponse) => void;
const ok = (res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ok: true } }));

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      answer(res);
    });
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql?x=1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

let fetcher: SubgraphFetcher;
beforeEach(() => {
  received = [];
  connections = 0;
  answer = ok;
  fetcher = createSubgraphFetcher({ timeoutMs: 300 });
});
afterEach(async () => {
  await fetcher.close();
  server.closeAllConnections();
});

describe('subgraph fetcher', () => {
  it('POSTs the body with exactly the given headers, to the path and query of the URL', async () => {
    const response = await fetcher.post({
      subgraph: 'agent',
      url,
      headers: { 'content-type': 'application/json', authorization: 'Bearer t', 'x-request-id': 'r-1' },
      body: '{"query":"{ ok }"}',
    });
    expect(response).toMatchObject({ status: 200, contentType: 'application/json' });
    expect(JSON.parse(response.body)).toEqual({ data: { ok: true } });
    const [request] = received;
    expect(request).toMatchObject({ method: 'POST', url: '/graphql?x=1', body: '{"query":"{ ok }"}' });
    const { host: _host, connection: _connection, 'content-length': length, ...rest } = request!.headers;
    expect(length).toBe('18');
    expect(rest).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer t',
      'x-request-id': 'r-1',
    });
  });

  it('keeps connections alive: sequential requests reuse their socket', async () => {
    // A socket goes back to the pool just after its response ends, so a second one may open once.
    for (let i = 0; i < 10; i += 1) {
      await fetcher.post({ subgraph: 'agent', url, headers: {}, body: '{}' });
    }
    expect(received).toHaveLength(10);
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('gives up on a subgraph that does not answer in time, naming the subgraph and the limit', async () => {
    answer = () => {}; // never answers
    const attempt = fetcher.post({ subgraph: 'governance', url, headers: {}, body: '{}' });
    await expect(attempt).rejects.toBeInstanceOf(UnavailableError);
    await expect(attempt).rejects.toThrow(
      'The governance subgraph did not answer within 300 ms; try again shortly',
    );
  });

  it('reports a subgraph that refuses connections as unreachable, without its URL', async () => {
    const attempt = fetcher.post({
      subgraph: 'audit',
      url: 'http://127.0.0.1:9/graphql',
      headers: {},
      body: '{}',
    });
    await expect(attempt).rejects.toBeInstanceOf(UnavailableError);
    await expect(attempt).rejects.toThrow(/^The audit subgraph cannot be reached; try again shortly$/);
  });
});

describe('auth-forwarding data source over the fetcher', () => {
  const context = { authorization: 'Bearer verified', requestId: 'req-12345678' } as GatewayContext;
  const processOptions = (headers?: Headers) =>
    ({
      kind: 'incoming operation',
      request: {
        query: '{ ok }',
        variables: { a: 1 },
        ...(headers ? { http: { method: 'POST', url: '', headers } } : {}),
      },
      context,
      incomingRequestContext: {},
    }) as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;

  it('sends only the verified token, the request id and the content type; never identity headers', async () => {
    const source = new AuthForwardingDataSource({ url, name: 'agent', fetcher });
    const spoofed = new Headers(SPOOFABLE_IDENTITY_HEADERS.map((name) => [name, 'spoofed']));
    spoofed.set('authorization', 'Bearer spoofed');
    await expect(source.process(processOptions(spoofed))).resolves.toEqual({ data: { ok: true } });
    const { host: _h, connection: _c, 'content-length': _l, ...headers } = received[0]!.headers;
    expect(headers).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer verified',
      'x-request-id': 'req-12345678',
    });
    expect(JSON.parse(received[0]!.body)).toEqual({ query: '{ ok }', variables: { a: 1 } });
  });

  it("passes a subgraph's refusal on with its message and code", async () => {
    answer = (res) =>
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          errors: [{ message: 'The access token has expired', extensions: { code: 'UNAUTHENTICATED' } }],
        }),
      );
    const source = new AuthForwardingDataSource({ url, name: 'agent', fetcher });
    const attempt = source.process(processOptions());
    await expect(attempt).rejects.toBeInstanceOf(GraphQLError);
    await expect(attempt).rejects.toMatchObject({
      message: 'The access token has expired',
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('refuses a supergraph subgraph without a routing URL at start-up', () => {
    expect(() => new AuthForwardingDataSource({ url: undefined, name: 'audit', fetcher })).toThrow(
      'the supergraph gives the audit subgraph no routing URL',
    );
  });
});

describe('subgraph fetcher configuration', () => {
  it('has defaults and reads SUBGRAPH_*', () => {
    expect(loadSubgraphFetcherConfig({})).toEqual({
      timeoutMs: 30_000,
      connections: 64,
      keepAliveMs: 30_000,
    });
    expect(
      loadSubgraphFetcherConfig({
        SUBGRAPH_TIMEOUT_MS: '2500',
        SUBGRAPH_CONNECTIONS: '8',
        SUBGRAPH_KEEP_ALIVE_MS: '',
      }),
    ).toEqual({ timeoutMs: 2500, connections: 8, keepAliveMs: 30_000 });
  });

  it('names every bad value', () => {
    const read = () => loadSubgraphFetcherConfig({ SUBGRAPH_TIMEOUT_MS: 'soon', SUBGRAPH_CONNECTIONS: '0' });
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(/SUBGRAPH_TIMEOUT_MS must be a whole number from 100 to 600000/);
    expect(read).toThrow(/SUBGRAPH_CONNECTIONS must be at least 1/);
  });
});
