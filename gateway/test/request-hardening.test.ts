import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { MAX_BODY_BYTES } from '#kernel/http/server.ts';
import { AuthForwardingDataSource, SPOOFABLE_IDENTITY_HEADERS } from '../src/auth-forwarding-data-source.ts';
import type { GatewayContext } from '../src/context.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

let platform: TestPlatform;
let alice: string;
let bob: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await platform.issuer.token('acme', 'alice', ['Admin']);
  bob = await platform.issuer.token('globex', 'bob', ['Admin']);
});
afterAll(() => platform?.close());

const raw = (init: RequestInit & { headers?: Record<string, string> }, query = '') =>
  fetch(`${platform.gateway.url}${query}`, {
    ...init,
    headers: { authorization: `Bearer ${alice}`, ...init.headers },
  });

describe('identity headers', () => {
  it('never forwards identity-claiming headers to a subgraph, only the verified token', () => {
    const source = new AuthForwardingDataSource({ url: 'http://127.0.0.1:1/graphql' });
    const headers = new Headers(SPOOFABLE_IDENTITY_HEADERS.map((name) => [name, 'spoofed']));
    headers.set('authorization', 'Bearer spoofed');
    const context = { authorization: 'Bearer verified', requestId: 'req-12345678' } as GatewayContext;
    source.willSendRequest({
      request: { query: '{ __typename }', http: { method: 'POST', url: '', headers } },
      context,
    } as unknown as Parameters<AuthForwardingDataSource['willSendRequest']>[0]);
    expect(Object.fromEntries(headers)).toEqual({
      authorization: 'Bearer verified',
      'x-request-id': 'req-12345678',
    });
  });

  it("ignores spoofed tenant and user headers: the token's tenant is the only one", async () => {
    const created = await platform.post(
      { query: 'mutation { createTask(input: { title: "globex secret" }) { id } }' },
      bob,
    );
    expect(created.body.errors).toBeUndefined();
    const bobTask = (created.body.data!.createTask as { id: string }).id;
    const principal = Buffer.from(
      JSON.stringify({ claims: [{ typ: 'tid', val: devTenantId('globex') }] }),
    ).toString('base64');
    const res = await raw({
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-tenant-id': devTenantId('globex'),
        'x-user-id': 'bob',
        'x-forwarded-user': 'bob@globex',
        'x-ms-client-principal': principal,
        'x-ms-client-principal-id': 'bob',
      },
      body: JSON.stringify({
        query: 'query ($id: ID!) { task(id: $id) { id title } tasks { edges { node { id title } } } }',
        variables: { id: bobTask },
      }),
    });
    const body = (await res.json()) as {
      data: { task: unknown; tasks: { edges: { node: { id: string } }[] } };
    };
    expect(res.status).toBe(200);
    expect(body.data.task).toBeNull();
    expect(body.data.tasks.edges.map((e) => e.node.id)).not.toContain(bobTask);
    expect(JSON.stringify(body)).not.toContain('globex secret');
  });

  it('does not let a spoofed header stand in for a token', async () => {
    const res = await fetch(platform.gateway.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-tenant-id': devTenantId('acme'),
        'x-user-id': 'alice',
      },
      body: JSON.stringify({ query: '{ killSwitch { engaged } }' }),
    });
    expect(res.status).toBe(401);
  });
});

describe('request shape', () => {
  it('keeps CSRF prevention on: a simple POST or GET without a preflight header is refused', async () => {
    const post = await raw({
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{ killSwitch { engaged } }',
    });
    expect(post.status).toBe(400);
    expect(await post.text()).toMatch(/Cross-Site Request Forgery/);
    const get = await raw({ method: 'GET' }, `?query=${encodeURIComponent('{ killSwitch { engaged } }')}`);
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await raw(
      { method: 'GET', headers: { 'apollo-require-preflight': 'true' } },
      `?query=${encodeURIComponent('{ killSwitch { engaged } }')}`,
    );
    expect(await preflighted.json()).toEqual({ data: { killSwitch: { engaged: false } } });
  });

  it('refuses batched operations', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { query: '{ killSwitch { engaged } }' },
        { query: '{ killSwitch { engaged } }' },
      ]),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/batching/i);
  });

  it('refuses a document with several operations unless one is named', async () => {
    const query = 'query A { killSwitch { engaged } } query B { killSwitch { reason } }';
    const unnamed = await platform.post({ query }, alice);
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.errors?.[0]).toEqual({
      message: 'The document holds 2 operations; name the one to run with operationName',
      extensions: { code: 'OPERATION_RESOLUTION_FAILURE', requestId: expect.any(String) },
    });
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, operationName: 'B' }),
    });
    expect(await res.json()).toEqual({ data: { killSwitch: { reason: null } } });
  });

  it('answers a body over 1 MiB with 413 and the limit', async () => {
    const res = await raw({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ killSwitch { engaged } } # ${'x'.repeat(MAX_BODY_BYTES)}` }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      errors: [
        {
          message: `Request body exceeds ${MAX_BODY_BYTES} bytes`,
          extensions: {
            code: 'PAYLOAD_TOO_LARGE',
            max: MAX_BODY_BYTES,
            requestId: res.headers.get('x-request-id'),
          },
        },
      ],
    });
  });
});
