import { readFile } from 'node:fs/promises';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger } from '#kernel/logger.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { SUPERGRAPH_FILE } from '../src/compose.ts';
import { type GatewayOptions, type RunningGateway, startGateway } from '../src/gateway.ts';
import { SUBSCRIBE_MESSAGE_SPAN } from '../src/subscriptions/subscription-tracing.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';
import { connectWs, type TestWsClient } from './support/ws-client.ts';

const TASK_CHANGES = 'subscription { taskStatusChanged { taskId } }';

let platform: TestPlatform;
let telemetry: Telemetry;
const spans = new InMemorySpanExporter();
const gateways: RunningGateway[] = [];
const clients: TestWsClient[] = [];

beforeAll(async () => {
  telemetry = startTelemetry({
    serviceName: 'test',
    spanProcessors: [new SimpleSpanProcessor(spans)],
    instrumentations: [],
  });
  platform = await startTestPlatform();
  for (const tenant of ['acme', 'globex']) {
    await platform.post({ query: '{ killSwitch { engaged } }' }, await platform.issuer.token(tenant));
  }
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await platform?.close();
  await telemetry?.shutdown();
});

async function gatewayWith(options: Partial<GatewayOptions>): Promise<RunningGateway> {
  const gateway = await startGateway({
    supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(Object.values(platform.subgraphs).map((s) => [s.name, s.url])),
    auth: platform.issuer.auth,
    host: '127.0.0.1',
    port: 0,
    introspection: false,
    apolloTelemetry: false,
    logger: createLogger('test', { level: 'silent' }),
    ...options,
  });
  gateways.push(gateway);
  return gateway;
}

function connect(gateway: RunningGateway, token: string): TestWsClient {
  const client = connectWs(gateway.wsUrl, { authorization: `Bearer ${token}` });
  clients.push(client);
  return client;
}

describe('one pipeline for HTTP and WebSocket operations', () => {
  it('traces an HTTP query and a WebSocket subscription through the same plugin', async () => {
    spans.reset();
    const token = await platform.issuer.token('acme', 'alice', ['Admin']);
    const res = await platform.post({ query: 'query Switch { killSwitch { engaged } }' }, token);
    expect(res.status).toBe(200);
    const client = connect(platform.gateway, token);
    await client.acknowledged;
    client.subscribe('s', 'subscription Changes { taskStatusChanged { taskId } }');
    // @envelop/opentelemetry's span lasts as long as the subscription: end it, then wait for the span.
    while (!spans.getFinishedSpans().some((s) => s.name === SUBSCRIBE_MESSAGE_SPAN)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    client.complete('s');
    while (!spans.getFinishedSpans().some((s) => s.name === 'subscription.Changes')) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const byName = Object.fromEntries(spans.getFinishedSpans().map((s) => [s.name, s.attributes]));
    const span = (name: string) => spans.getFinishedSpans().find((s) => s.name === name)!;
    // @apollo/gateway's request span is a child of the operation span, not its sibling.
    expect(span('gateway.request').parentSpanContext?.spanId).toBe(span('query Switch').spanContext().spanId);
    // A subscription's trace is like a query's: the message span holds the set-up, the operation span is its child.
    expect(span('subscription.Changes').parentSpanContext?.spanId).toBe(
      span(SUBSCRIBE_MESSAGE_SPAN).spanContext().spanId,
    );
    expect(span('subscription.Changes').spanContext().traceId).toBe(
      span(SUBSCRIBE_MESSAGE_SPAN).spanContext().traceId,
    );
    expect(byName['query Switch']).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'Switch',
      'widgetdc.graphql.transport': 'http',
    });
    expect(byName['subscription.Changes']).toMatchObject({
      'graphql.operation.type': 'subscription',
      'widgetdc.graphql.transport': 'websocket',
      'widgetdc.tenant.id': expect.any(String),
    });
  });

  it('caps subscriptions per connection with TOO_MANY_SUBSCRIPTIONS, keeping the connection', async () => {
    const gateway = await gatewayWith({
      subscriptionLimits: { maxSubscriptionsPerConnection: 2, maxConnectionsPerTenant: 10 },
    });
    const client = connect(gateway, await platform.issuer.token('acme', 'alice', ['Reader']));
    await client.acknowledged;
    client.subscribe('a', TASK_CHANGES);
    client.subscribe('b', TASK_CHANGES);
    client.subscribe('c', TASK_CHANGES);
    expect(await client.next('c')).toEqual({
      id: 'c',
      type: 'error',
      payload: [
        {
          message:
            'The connection holds 3 subscriptions; the subscription limit is 2. Complete some, or open another connection.',
          extensions: {
            code: 'TOO_MANY_SUBSCRIPTIONS',
            limit: 'subscription',
            found: 3,
            max: 2,
            requestId: expect.any(String),
          },
        },
      ],
    });
    // Completing one frees its place.
    client.complete('a');
    await new Promise((r) => setTimeout(r, 50));
    client.subscribe('d', 'subscription { taskStatusChanged { taskId nope } }');
    expect(await client.next('d')).toMatchObject({
      type: 'error',
      payload: [{ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }],
    });
  });

  it('caps connections per tenant with close 4429 TOO_MANY_CONNECTIONS; other tenants still connect', async () => {
    const gateway = await gatewayWith({
      subscriptionLimits: { maxSubscriptionsPerConnection: 10, maxConnectionsPerTenant: 2 },
    });
    const acme = await platform.issuer.token('acme', 'alice', ['Reader']);
    const first = connect(gateway, acme);
    await first.acknowledged;
    await connect(gateway, acme).acknowledged;
    const third = connect(gateway, acme);
    await expect(third.acknowledged).rejects.toMatchObject({
      code: 4429,
      reason: 'TOO_MANY_CONNECTIONS: the tenant has 2 open connections; the limit is 2',
    });
    await connect(gateway, await platform.issuer.token('globex', 'gus', ['Reader'])).acknowledged;
    first.close();
    await first.closed;
    await new Promise((r) => setTimeout(r, 50));
    await connect(gateway, acme).acknowledged;
  });
});

describe('production mode at the gateway', () => {
  it('gives no "Did you mean" suggestions over HTTP or WebSocket in production, and does outside it', async () => {
    const token = await platform.issuer.token('acme', 'alice', ['Admin']);
    const production = await gatewayWith({ production: true });
    const typo = '{ killSwitch { engagd } }';
    const dev = await platform.post({ query: typo }, token);
    expect(dev.body.errors?.[0]?.message).toBe(
      'Cannot query field "engagd" on type "KillSwitch". Did you mean "engaged", "engagedAt", or "engagedBy"?',
    );
    const prod = await platform.post({ query: typo }, token, production.url);
    expect(prod.status).toBe(400);
    expect(prod.body.errors?.[0]).toMatchObject({
      message: 'Cannot query field "engagd" on type "KillSwitch".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const client = connect(production, token);
    await client.acknowledged;
    client.subscribe('t', 'subscription { taskStatusChanged { tskId } }');
    expect(await client.next('t')).toEqual({
      id: 't',
      type: 'error',
      payload: [
        expect.objectContaining({
          message: 'Cannot query field "tskId" on type "TaskStatusChange".',
          extensions: { code: 'GRAPHQL_VALIDATION_FAILED', requestId: expect.any(String) },
        }),
      ],
    });
  });
});
