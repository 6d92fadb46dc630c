// Every GraphQL error the gateway sends carries the request id in extensions.requestId: over HTTP
// the id of the response's x-request-id header, whatever refused the request (the HTTP server, the
// authentication, validation, a subgraph's resolver); over graphql-ws the connection's.
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { connectWs, type TestWsClient } from '../support/ws-client.ts';

let platform: TestPlatform;
const clients: TestWsClient[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  await platform?.close();
});

type Body = { errors?: { message: string; extensions?: Record<string, unknown> }[]; data?: unknown };

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(platform.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return { status: res.status, header: res.headers.get('x-request-id'), body: (await res.json()) as Body };
}

describe('the request id in every error', () => {
  it('is in every HTTP error, the same as the x-request-id header', async () => {
    const token = await platform.issuer.token('acme', 'alice', ['Admin']);
    const auth = { authorization: `Bearer ${token}` };
    const cases = [
      // Refused by the HTTP server before Apollo: not JSON.
      await post('{not json', auth),
      // Refused by the authentication: no token.
      await post(JSON.stringify({ query: '{ killSwitch { engaged } }' })),
      // Refused by validation.
      await post(JSON.stringify({ query: '{ killSwitch { nope } }' }), auth),
      // Refused by a subgraph's resolver (FORBIDDEN: acme is no operator tenant), data and errors.
      await post(JSON.stringify({ query: 'mutation { releasePlatformKillSwitch { engaged } }' }), auth),
    ];
    expect(cases.map((c) => c.status)).toEqual([400, 401, 400, 200]);
    expect(cases[3]!.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    for (const { header, body } of cases) {
      expect(header).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.errors?.length).toBeGreaterThan(0);
      for (const error of body.errors ?? []) expect(error.extensions?.requestId).toBe(header);
    }
    expect(new Set(cases.map((c) => c.header)).size).toBe(cases.length);
  });

  it("keeps a client's own well-formed request id, and adds nothing to a response without errors", async () => {
    const refused = await post(JSON.stringify({ query: '{ killSwitch { engaged } }' }), {
      'x-request-id': 'support-ticket-4711',
    });
    expect(refused.header).toBe('support-ticket-4711');
    expect(refused.body.errors?.[0]?.extensions?.requestId).toBe('support-ticket-4711');
    const token = await platform.issuer.token('acme', 'alice', ['Reader']);
    const ok = await post(JSON.stringify({ query: '{ killSwitch { engaged } }' }), {
      authorization: `Bearer ${token}`,
    });
    expect(ok.body).toEqual({ data: { killSwitch: { engaged: false } } });
  });

  it('is in every graphql-ws error: the id of the connection', async () => {
    const token = await platform.issuer.token('acme', 'alice', ['Auditor']);
    const client = connectWs(
      platform.gateway.wsUrl,
      { authorization: `Bearer ${token}` },
      { 'x-request-id': 'ws-connection-0042' },
    );
    clients.push(client);
    await client.acknowledged;
    // Refused by the role check, then by validation: both errors carry the connection's id.
    client.subscribe('roles', 'subscription { taskStatusChanged { taskId } }');
    client.subscribe('invalid', 'subscription { killSwitchChanged { nope } }');
    for (const id of ['roles', 'invalid']) {
      const message = await client.next(id);
      expect(message.type).toBe('error');
      const errors = message.payload as { extensions?: Record<string, unknown> }[];
      expect(errors.length).toBeGreaterThan(0);
      for (const error of errors) expect(error.extensions?.requestId).toBe('ws-connection-0042');
    }
  });
});
