// trace(id) and traces(filter) answer from the spans every process stored (kernel span store), for
// Auditors and Admins of the trace's tenant only.
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Identity } from '#kernel/auth/identity.ts';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { TenantSpanStore } from '#kernel/telemetry/span-store.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { auditSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let audit: SubgraphHarness;
let telemetry: Telemetry;
let store: TenantSpanStore;
let auditor: Identity;
let admin: Identity;
let reader: Identity;
let stranger: Identity;
let slowFailed: string;
let fast: string;

/** A traced request of `who`: HTTP span, operation span (tenant), and a child that may fail. */
async function request(who: Identity, operation: string, childMs: number, fail = false): Promise<string> {
  const tracer = trace.getTracer('test');
  return tracer.startActiveSpan('POST', async (root) => {
    await tracer.startActiveSpan(operation, async (op) => {
      op.setAttributes({ 'widgetdc.tenant.id': who.tenantId, 'graphql.operation.type': 'query' });
      await tracer.startActiveSpan('SELECT knowledge', async (child) => {
        await new Promise((r) => setTimeout(r, childMs));
        if (fail) child.setStatus({ code: SpanStatusCode.ERROR, message: 'statement timeout' });
        child.end();
      });
      op.end();
    });
    root.end();
    return root.spanContext().traceId;
  });
}

const TRACE = `query ($id: ID!) { trace(id: $id) { id operation status spanCount services durationMs
  roots { name service kind status children { name } }
  spans { name depth parentSpanId spanId status statusMessage durationMs attributes } } }`;
const TRACES = `query ($filter: TraceFilter, $first: Int, $after: String) {
  traces(filter: $filter, first: $first, after: $after) { edges { cursor node { id operation status } } pageInfo { hasNextPage endCursor } } }`;

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
  auditor = await audit.identity('acme', 'audrey', ['Auditor']);
  admin = await audit.identity('acme', 'ada', ['Admin']);
  reader = await audit.identity('acme', 'rita', ['Reader']);
  stranger = await audit.identity('umbrella', 'mallory', ['Admin']);
  store = new TenantSpanStore({ url: db.appUrl, flushIntervalMs: 60_000 });
  telemetry = startTelemetry({ serviceName: 'knowledge', spanProcessors: [store], instrumentations: [] });
  fast = await request(admin, 'query Fast', 1);
  slowFailed = await request(admin, 'query SlowSearch', 60, true);
  await request(stranger, 'query Theirs', 1);
  await store.forceFlush();
});
afterAll(async () => {
  await telemetry?.shutdown();
  await audit?.close();
  await db?.close();
});

describe('traces', () => {
  it('returns the span tree of a trace with names, services, status and attributes', async () => {
    const res = await audit.execute(auditor, TRACE, { id: slowFailed });
    expect(res.errors).toBeUndefined();
    type SpanRow = {
      name: string;
      depth: number;
      spanId: string;
      parentSpanId: string | null;
      durationMs: number;
      attributes: string;
    };
    const found = res.data?.trace as { spans: SpanRow[]; durationMs: number };
    expect(found).toMatchObject({
      id: slowFailed,
      operation: 'query SlowSearch',
      status: 'ERROR',
      spanCount: 3,
      services: ['knowledge'],
      roots: [
        {
          name: 'POST',
          service: 'knowledge',
          kind: 'INTERNAL',
          status: 'UNSET',
          children: [{ name: 'query SlowSearch' }],
        },
      ],
      spans: [
        { name: 'POST', depth: 0, parentSpanId: null, status: 'UNSET' },
        { name: 'query SlowSearch', depth: 1 },
        { name: 'SELECT knowledge', depth: 2, status: 'ERROR', statusMessage: 'statement timeout' },
      ],
    });
    const [root, operation, leaf] = found.spans as [SpanRow, SpanRow, SpanRow];
    expect(operation.parentSpanId).toBe(root.spanId);
    expect(leaf.parentSpanId).toBe(operation.spanId);
    expect(leaf.durationMs).toBeGreaterThan(0);
    expect(found.durationMs).toBeGreaterThanOrEqual(leaf.durationMs);
    expect(JSON.parse(leaf.attributes)).toEqual({});
    expect(JSON.parse(operation.attributes)).toEqual({
      'widgetdc.tenant.id': admin.tenantId,
      'graphql.operation.type': 'query',
    });
  });

  it('lists traces newest first, filtered by operation, duration and status, in pages', async () => {
    const all = await audit.execute(admin, TRACES, {});
    expect(all.errors).toBeUndefined();
    const ids = (r: typeof all) =>
      (r.data!.traces as { edges: { node: { id: string } }[] }).edges.map((e) => e.node.id);
    expect(ids(all)).toEqual([slowFailed, fast]);
    expect(ids(await audit.execute(admin, TRACES, { filter: { operation: 'slowsearch' } }))).toEqual([
      slowFailed,
    ]);
    expect(ids(await audit.execute(admin, TRACES, { filter: { status: 'ERROR' } }))).toEqual([slowFailed]);
    expect(ids(await audit.execute(admin, TRACES, { filter: { minDurationMs: 50 } }))).toEqual([slowFailed]);
    expect(ids(await audit.execute(admin, TRACES, { filter: { operation: '100%_' } }))).toEqual([]);
    const first = await audit.execute(admin, TRACES, { first: 1 });
    const page = first.data?.traces as { pageInfo: { hasNextPage: boolean; endCursor: string } };
    expect(ids(first)).toEqual([slowFailed]);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(ids(await audit.execute(admin, TRACES, { first: 1, after: page.pageInfo.endCursor }))).toEqual([
      fast,
    ]);
  });

  it("shows a tenant none of another tenant's traces, and refuses other roles", async () => {
    expect((await audit.execute(stranger, TRACE, { id: slowFailed })).data?.trace).toBeNull();
    const theirs = (await audit.execute(stranger, TRACES, {})).data?.traces as {
      edges: { node: { operation: string } }[];
    };
    expect(theirs.edges.map((e) => e.node.operation)).toEqual(['query Theirs']);
    const refused = await audit.execute(reader, TRACE, { id: slowFailed });
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('names a malformed trace id or filter', async () => {
    const bad = await audit.execute(admin, TRACE, { id: 'not-a-trace' });
    expect(bad.errors?.[0]).toMatchObject({
      message: 'id must be a W3C trace id: 32 hexadecimal digits, not all zero (got "not-a-trace")',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const negative = await audit.execute(admin, TRACES, { filter: { minDurationMs: -1 } });
    expect(negative.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('names the outer of two operation spans that start in the same microsecond, in the list and the trace', async () => {
    // The gateway's operation span and @apollo/gateway's `gateway.request` both carry the operation type and
    // often start in the same microsecond; the parent lasts longer, and must be the one named every time.
    const owner = await audit.identity('initech', 'ivy', ['Admin']);
    const tracer = trace.getTracer('test');
    const at = new Date('2026-12-01T10:00:00.000Z');
    const id = tracer.startActiveSpan('POST', { startTime: at }, (root) => {
      const op = tracer.startSpan('query Ask', { startTime: at });
      op.setAttributes({ 'widgetdc.tenant.id': owner.tenantId, 'graphql.operation.type': 'query' });
      const inner = tracer.startSpan(
        'gateway.request',
        { startTime: at, attributes: { 'graphql.operation.type': 'query' } },
        trace.setSpan(context.active(), op),
      );
      // Ended (so stored) parent first: without a tie-break the first row stored would win.
      op.end(new Date(at.getTime() + 6));
      inner.end(new Date(at.getTime() + 5));
      root.end(new Date(at.getTime() + 7));
      return root.spanContext().traceId;
    });
    await store.forceFlush();
    const one = await audit.execute(owner, TRACE, { id });
    expect(one.data?.trace).toMatchObject({ operation: 'query Ask' });
    const operations = async (operation: string) => {
      const listed = await audit.execute(owner, TRACES, { filter: { operation } });
      const page = listed.data?.traces as { edges: { node: { operation: string } }[] } | undefined;
      return page?.edges.map((e) => e.node.operation);
    };
    await expect(operations('ask')).resolves.toEqual(['query Ask']);
    await expect(operations('gateway.request')).resolves.toEqual([]);
  });
});
