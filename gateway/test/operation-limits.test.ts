import { readFile } from 'node:fs/promises';
import {
  countTokens,
  DEFAULT_LIST_SIZE,
  DEFAULT_OPERATION_LIMITS,
  type OperationLimits,
} from '#kernel/graphql/limits/operation-limits.ts';
import { createLogger } from '#kernel/logger.ts';
import { SUPERGRAPH_FILE } from '../src/compose.ts';
import { type RunningGateway, startGateway } from '../src/gateway.ts';
import { type GraphQLResponse, startTestPlatform, type TestPlatform } from './support/platform.ts';

let platform: TestPlatform;
let alice: string;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  alice = await platform.issuer.token('acme', 'alice', ['Admin']);
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await platform?.close();
});

/** A second gateway on the same subgraphs, with one limit tightened. */
async function gatewayWith(limits: Partial<OperationLimits>): Promise<RunningGateway> {
  const gateway = await startGateway({
    supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(Object.values(platform.subgraphs).map((s) => [s.name, s.url])),
    auth: platform.issuer.auth,
    host: '127.0.0.1',
    port: 0,
    introspection: false,
    apolloTelemetry: false,
    logger: createLogger('test', { level: 'silent' }),
    limits: { ...DEFAULT_OPERATION_LIMITS, ...limits },
  });
  gateways.push(gateway);
  return gateway;
}

const send = (gateway: RunningGateway, query: string, variables?: Record<string, unknown>) =>
  platform.post({ query, variables }, alice, gateway.url);

function expectRefused(res: GraphQLResponse, code: string, limit: string, found: number, max: number) {
  expect(res.status).toBe(400);
  expect(res.body.data).toBeUndefined();
  expect(res.body.errors).toHaveLength(1);
  expect(res.body.errors?.[0]?.extensions).toEqual({
    code,
    limit,
    found,
    max,
    requestId: expect.any(String),
  });
  expect(res.body.errors?.[0]?.message).toContain(`${found}`);
  expect(res.body.errors?.[0]?.message).toContain(`the ${limit} limit is ${max}`);
}

function expectAccepted(res: GraphQLResponse) {
  expect(res.status).toBe(200);
  expect(res.body.errors).toBeUndefined();
}

describe('operation limits at the gateway', () => {
  it('refuses a query one level deeper than the depth limit, and runs one at it', async () => {
    const gateway = await gatewayWith({ maxDepth: 4 });
    const id = '00000000-0000-4000-8000-000000000000';
    const atLimit = `{ task(id: "${id}") { approvals { task { id } } } }`;
    expectAccepted(await send(gateway, atLimit));
    const deeper = `{ task(id: "${id}") { approvals { task { approvals { id } } } } }`;
    const res = await send(gateway, deeper);
    expectRefused(res, 'QUERY_TOO_DEEP', 'depth', 5, 4);
    expect(res.body.errors?.[0]?.message).toBe(
      'The query is nested 5 levels deep; the depth limit is 4. Ask for less nesting.',
    );
  });

  it('counts depth through fragments', async () => {
    const gateway = await gatewayWith({ maxDepth: 4 });
    const query = `query ($id: ID!) { task(id: $id) { ...T } }
      fragment T on Task { approvals { ...A } }
      fragment A on ApprovalRequest { task { approvals { id } } }`;
    const res = await send(gateway, query, { id: '00000000-0000-4000-8000-000000000000' });
    expectRefused(res, 'QUERY_TOO_DEEP', 'depth', 5, 4);
  });

  it('refuses one alias over the alias limit, and runs exactly at it', async () => {
    const gateway = await gatewayWith({ maxAliases: 3 });
    const aliased = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `k${i}: killSwitch { engaged }`).join(' ')} }`;
    const ok = await send(gateway, aliased(3));
    expectAccepted(ok);
    expect(ok.body.data).toEqual({
      k0: { engaged: false },
      k1: { engaged: false },
      k2: { engaged: false },
    });
    expectRefused(await send(gateway, aliased(4)), 'TOO_MANY_ALIASES', 'alias', 4, 3);
  });

  it('refuses a query costing one page item too many, with `first` from a literal or a variable', async () => {
    const gateway = await gatewayWith({ maxCost: 50 });
    // cost = tasks 1 + first × (edges 1 + node 1 + id 1)
    const literal = (n: number) => `{ tasks(first: ${n}) { edges { node { id } } } }`;
    expectAccepted(await send(gateway, literal(16)));
    expectRefused(await send(gateway, literal(17)), 'QUERY_TOO_COSTLY', 'cost', 52, 50);
    const withVariable = 'query ($n: Int) { tasks(first: $n) { edges { node { id } } } }';
    expectAccepted(await send(gateway, withVariable, { n: 16 }));
    expectRefused(await send(gateway, withVariable, { n: 17 }), 'QUERY_TOO_COSTLY', 'cost', 52, 50);
  });

  it('prices a list without `first` at the default size', async () => {
    const gateway = await gatewayWith({ maxCost: 50 });
    // tasks 1 + 20 × 3 = 61 > 50: the default page size is assumed, not the (empty) result.
    const res = await send(gateway, '{ tasks { edges { node { id } } } }');
    expectRefused(res, 'QUERY_TOO_COSTLY', 'cost', 1 + DEFAULT_LIST_SIZE * 3, 50);
  });

  it('refuses a document one token over the token limit before parsing it further, and runs one at it', async () => {
    const gateway = await gatewayWith({ maxTokens: 40 });
    // `{ killSwitch {` + n × `engaged` + `} }` has 5 + n tokens.
    const padded = (tokens: number) =>
      `{ killSwitch { ${Array.from({ length: tokens - 5 }, () => 'engaged').join(' ')} } }`;
    expect(countTokens(padded(40))).toBe(40);
    expectAccepted(await send(gateway, padded(40)));
    const res = await send(gateway, padded(41));
    expectRefused(res, 'QUERY_TOO_LARGE', 'token', 41, 40);
    expect(res.body.errors?.[0]?.message).toBe(
      'The query has 41 tokens; the token limit is 40. Send a smaller query.',
    );
    // A far larger document reports its real size.
    const huge = await send(gateway, padded(5_000));
    expectRefused(huge, 'QUERY_TOO_LARGE', 'token', 5_000, 40);
  });

  it('lets the existing suites’ queries through with the default limits', async () => {
    for (const query of [
      '{ tasks { edges { node { id title status approvals { id status } } } } }',
      '{ documents { edges { node { id } } } killSwitch { engaged } }',
      'query ($id: ID!) { task(id: $id) { approvals { riskLevel task { title } } } }',
      '{ tasks(first: 100) { edges { node { id title status createdAt createdBy approvals { id status riskLevel requestedAt } } } } }',
    ]) {
      const res = await platform.post(
        { query, variables: { id: '00000000-0000-4000-8000-000000000000' } },
        alice,
      );
      expect({ query, status: res.status, errors: res.body.errors }).toEqual({
        query,
        status: 200,
        errors: undefined,
      });
    }
  });
});
