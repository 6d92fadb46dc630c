// What a new client of the gateway does first: introspect the one graph over HTTP (Apollo Sandbox,
// graphql-codegen) and build subscription documents against it.
import { generate } from '@graphql-codegen/cli';
import {
  buildClientSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
  parse,
  print,
  printSchema,
  validate,
} from 'graphql';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

let platform: TestPlatform;
let token: string;

beforeAll(async () => {
  platform = await startTestPlatform({ introspection: true });
  token = await platform.issuer.token('acme', 'alice', ['Reader']);
});
afterAll(async () => {
  await platform?.close();
});

const APPROVALS = parse(`
  subscription Approvals($taskId: ID) {
    approvalRequested(taskId: $taskId) {
      eventId
      at
      approval { tool arguments riskLevel expiresAt task { goal status createdBy } }
    }
  }
`);

const ASK_STREAM = parse(`
  subscription Ask($q: String!) {
    askStream(question: $q) {
      ... on AnswerPiece { text }
      ... on Answer { text citations { n quote document { title } } traceId }
    }
  }
`);

describe('the graph as clients introspect it over HTTP', () => {
  it('includes the subscriptions, so a subscription document validates against it', async () => {
    const res = await platform.post({ query: getIntrospectionQuery() }, token);
    expect(res.status).toBe(200);
    const schema = buildClientSchema(res.body.data as unknown as IntrospectionQuery);
    expect(schema.getSubscriptionType()?.name).toBe('Subscription');
    expect(Object.keys(schema.getSubscriptionType()?.getFields() ?? {}).sort()).toEqual([
      'approvalDecided',
      'approvalRequested',
      'askStream',
      'documentStatusChanged',
      'killSwitchChanged',
      'taskStatusChanged',
      'taskStepCompleted',
    ]);
    expect(validate(schema, APPROVALS)).toEqual([]);
    // The knowledge subgraph's own subscription (ADR 0031) is there too, its union and final Answer.
    expect(validate(schema, ASK_STREAM)).toEqual([]);
    // The live subgraph's entity stubs do not shadow the owners' fields.
    expect(printSchema(schema)).toMatch(/type ApprovalRequest \{[^}]*\btool: String\b/);
  });

  it('lets graphql-codegen generate a subscription document against the gateway', async () => {
    const [output] = await generate(
      {
        schema: [{ [platform.gateway.url]: { headers: { authorization: `Bearer ${token}` } } }],
        documents: [print(APPROVALS)],
        generates: { 'approvals.ts': { plugins: ['typescript', 'typescript-operations'] } },
        silent: true,
      },
      false,
    );
    expect(output?.content).toContain('export type ApprovalsSubscription');
    expect(output?.content).toContain(
      'approval: { tool: string | null, arguments: unknown, riskLevel: RiskLevel',
    );
  });

  it('answers every valid introspection query, graphql-js options included (oneOf, descriptions, …)', async () => {
    const variants = [
      getIntrospectionQuery({ oneOf: true }),
      getIntrospectionQuery({
        descriptions: true,
        specifiedByUrl: true,
        directiveIsRepeatable: true,
        schemaDescription: true,
        inputValueDeprecation: true,
        oneOf: true,
      }),
      getIntrospectionQuery({ descriptions: false }),
    ];
    for (const query of variants) {
      const res = await platform.post({ query }, token);
      expect({ status: res.status, errors: res.body.errors }).toEqual({ status: 200, errors: undefined });
      expect(
        buildClientSchema(res.body.data as unknown as IntrospectionQuery).getSubscriptionType(),
      ).toBeDefined();
    }
  });
});

describe('a subscription sent over HTTP', () => {
  const message =
    'Subscriptions are served over WebSocket only (graphql-ws, subprotocol graphql-transport-ws) at /graphql; send queries and mutations over HTTP';

  it('is refused with 400 BAD_REQUEST saying where to send it (GET: Apollo allows queries only, 405)', async () => {
    const query = print(APPROVALS);
    const posted = await platform.post({ query }, token);
    expect(posted).toEqual({
      status: 400,
      body: { errors: [{ message, extensions: { code: 'BAD_REQUEST', requestId: expect.any(String) } }] },
    });
    const url = new URL(platform.gateway.url);
    url.searchParams.set('query', query);
    const got = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, 'apollo-require-preflight': 'true' },
    });
    expect(got.status).toBe(405);
  });

  it("is refused the same way when it asks for Apollo's multipart subscription protocol", async () => {
    const res = await fetch(platform.gateway.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'multipart/mixed;subscriptionSpec="1.0", application/json',
      },
      body: JSON.stringify({ query: print(APPROVALS) }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(message);
  });
});
