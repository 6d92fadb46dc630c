// One trace follows a request across processes: `npm start` runs every service with
// `--import kernel/src/telemetry/register.ts`; a decision of an approval goes gateway → governance →
// outbox → relay → the agent-approvals worker. Every process exports to a local OTLP/HTTP receiver
// (the real exporter) and keeps its spans in the tenant's store, which `trace(id)` reads back.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { ROOT_DIR } from '../../../gateway/src/compose.ts';

const run = promisify(execFile);
/** Nine processes start one after another; on a loaded machine that takes minutes. */
const PLATFORM_TIMEOUT_MS = 400_000;

/** A span as OTLP/JSON carries it, with its resource's service name. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

let db: TestDatabase | undefined;
let dataDir: string;
let env: NodeJS.ProcessEnv;
let gatewayUrl: string;
let collector: Server;
let platform: ChildProcess | undefined;
const received: ReceivedSpan[] = [];
const requests: { path: string; contentType: string }[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type OtlpValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
const otlpValue = (v: OtlpValue) => v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
const attributesOf = (list: { key: string; value: OtlpValue }[] = []) =>
  Object.fromEntries(list.map((a) => [a.key, otlpValue(a.value)]));

/** Receives OTLP/HTTP JSON traces (and accepts anything else without reading it). */
function startCollector(): Promise<string> {
  collector = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '' });
      if (req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: OtlpValue }[] };
            scopeSpans: { spans: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes: [] })[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service = String(attributesOf(rs.resource.attributes)['service.name']);
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans)
              received.push({ ...s, service, attributes: attributesOf(s.attributes) });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    collector.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(collector.address() as { port: number }).port}`),
    ),
  );
}

function startPlatform(): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT_DIR, 'scripts', 'start.ts')], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  platform = child;
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('WidgeTDC is ready')) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`npm start exited (${code}) before it was ready:\n${output}`)),
    );
  });
}

async function token(tenant: string, user: string, roles: string): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    [join(ROOT_DIR, 'scripts', 'token.ts'), '--tenant', tenant, '--user', user, '--roles', roles],
    { env },
  );
  return stdout.trim().split('\n').at(-1)!;
}

async function graphql(query: string, bearer: string, variables?: Record<string, unknown>) {
  const res = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as {
    data?: Record<string, { id?: string; services?: string[]; roots?: unknown[] } | null>;
    errors?: unknown[];
  };
}

/** What the receiver holds, for a failure message. */
function summary(): string {
  const byService = new Map<string, Set<string>>();
  for (const s of received) byService.set(s.service, (byService.get(s.service) ?? new Set()).add(s.name));
  const consumed = received.filter((s) => s.name.startsWith('process '));
  const traces = new Map<string, string[]>();
  for (const s of received)
    if (!s.name.startsWith('graphql.parseSchema') && s.name !== 'GET')
      traces.set(s.traceId, [
        ...(traces.get(s.traceId) ?? []),
        `${s.service}:${s.name}#${s.spanId}<${s.parentSpanId ?? ''}`,
      ]);
  const tree = [...traces].map(([id, names]) => `${id}: ${names.join(', ')}`).join('\n');
  return `received ${received.length} spans: ${[...byService].map(([k, v]) => `${k}: ${[...v].join(', ')}`).join(' | ')}; consumer spans: ${consumed.map((s) => `${s.service} ${s.name} ${s.traceId} parent ${s.parentSpanId}`).join('; ')}\n${tree}`;
}

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; ${summary()}`);
}

/** Free ports for every process, picked now (another test's process may still take one first). */
async function pickPorts(): Promise<Record<string, number>> {
  const ports: Record<string, number> = {};
  for (const name of [
    'GATEWAY_PORT',
    'KNOWLEDGE_PORT',
    'AGENT_PORT',
    'GOVERNANCE_PORT',
    'AUDIT_PORT',
    'DEV_ISSUER_PORT',
  ])
    ports[name] = await freePort();
  return ports;
}

beforeAll(async () => {
  const collector = await startCollector();
  if ((globalThis as { WIDGETDC_TEST_DB?: string }).WIDGETDC_TEST_DB !== 'pglite')
    db = await createTestDatabase();
  // A port picked free can be taken by a process of a test running beside this one before npm start
  // binds it: then start again on other ports (a fresh data folder each time).
  for (let attempt = 1; ; attempt++) {
    dataDir = await mkdtemp(join(tmpdir(), 'wtdc-otel-'));
    const ports = await pickPorts();
    env = {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      WIDGETDC_DATA_DIR: dataDir,
      NODE_OPTIONS: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector,
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      ...(db ? { DATABASE_URL: db.appUrl, MIGRATION_DATABASE_URL: db.migrationUrl } : {}),
    };
    gatewayUrl = `http://127.0.0.1:${ports.GATEWAY_PORT}/graphql`;
    try {
      await startPlatform();
      return;
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('EADDRINUSE')) throw error;
      await rm(dataDir, { recursive: true, force: true });
    }
  }
}, PLATFORM_TIMEOUT_MS);

afterAll(async () => {
  if (platform && platform.exitCode === null) {
    const exited = new Promise((resolve) => platform!.once('exit', resolve));
    platform.kill('SIGTERM');
    await exited;
  }
  await new Promise((resolve) => collector?.close(resolve));
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
}, PLATFORM_TIMEOUT_MS);

describe('one trace across processes', () => {
  it(
    'follows a decision from the gateway through governance and the outbox to the worker',
    async () => {
      const acme = await token('acme', 'alice', 'Admin');
      const taskId = (await graphql('mutation { createTask(input: { title: "Traced" }) { id } }', acme)).data
        ?.createTask?.id;
      const requested = await graphql(
        `mutation { requestApproval(input: { taskId: "${taskId}", riskLevel: HIGH, reason: "Sends mail" }) { id } }`,
        acme,
      );
      expect(requested.errors).toBeUndefined();
      const approver = await token('acme', 'bob', 'Approver');
      const decided = await graphql(
        'mutation Decide($id: ID!) { decideApproval(input: { id: $id, decision: APPROVE }) { id } }',
        approver,
        { id: requested.data?.requestApproval?.id },
      );
      expect(decided.errors).toBeUndefined();

      // The real OTLP exporter of every process delivered JSON to /v1/traces.
      const operation = await eventually(
        () => received.find((s) => s.name === 'mutation Decide' && s.service === 'gateway'),
        'the gateway operation span',
      );
      const traceId = operation.traceId;
      const consumer = await eventually(
        () =>
          received.find(
            (s) => s.traceId === traceId && s.service === 'worker' && s.name === 'process approval.decided',
          ),
        'the worker span of approval.decided in the same trace',
      );
      expect(
        requests.some((r) => r.path === '/v1/traces' && r.contentType.startsWith('application/json')),
      ).toBe(true);
      const spans = new Map(received.filter((s) => s.traceId === traceId).map((s) => [s.spanId, s]));
      const ancestors = (span: ReceivedSpan) => {
        const chain: ReceivedSpan[] = [];
        for (
          let p = span.parentSpanId && spans.get(span.parentSpanId);
          p;
          p = p.parentSpanId && spans.get(p.parentSpanId)
        )
          chain.push(p);
        return chain;
      };
      const names = (list: ReceivedSpan[]) => list.map((s) => `${s.service}:${s.name}`);

      // gateway: HTTP server span → operation span → gateway.request (a child, not a sibling)
      const httpSpan = spans.get(operation.parentSpanId!)!;
      expect(httpSpan).toMatchObject({ service: 'gateway', kind: 2 });
      expect(httpSpan.parentSpanId ?? '').toBe('');
      const gatewayRequest = [...spans.values()].filter((s) => s.name === 'gateway.request');
      expect(gatewayRequest).toHaveLength(1);
      expect(gatewayRequest[0]!.parentSpanId).toBe(operation.spanId);
      // the consumer's span descends from governance's request, which descends from the gateway's operation
      const chain = ancestors(consumer);
      expect(chain.at(-1)).toBe(httpSpan);
      expect(names(chain)).toContain('gateway:mutation Decide');
      expect(chain.some((s) => s.service === 'governance' && s.kind === 2)).toBe(true);
      expect(consumer.attributes).toMatchObject({ 'messaging.consumer.group.name': 'agent-approvals' });
      // no duplicated spans: one parse and one validation per service that parsed the operation
      for (const service of new Set([...spans.values()].map((s) => s.service))) {
        const own = [...spans.values()].filter((s) => s.service === service);
        expect(own.filter((s) => s.name === 'graphql.validate').length).toBeLessThanOrEqual(1);
        expect(own.filter((s) => s.name === 'graphql.parse').length).toBeLessThanOrEqual(1);
      }
      expect(
        [...spans.values()].filter((s) => s.name === 'graphql.validate' && s.service === 'gateway'),
      ).toHaveLength(1);

      // the same spans are kept in the tenant's store: trace(id) returns them to an Admin of acme only
      const TRACE = 'query ($id: ID!) { trace(id: $id) { services spanCount roots { name service } } }';
      const stored = await eventually(async () => {
        const found = (await graphql(TRACE, acme, { id: traceId })).data?.trace;
        // Each process exports in its own batches: wait until all three have stored theirs.
        return found && ['gateway', 'governance', 'worker'].every((s) => found.services?.includes(s))
          ? found
          : undefined;
      }, 'the stored trace');
      expect(stored.services).toEqual(expect.arrayContaining(['gateway', 'governance', 'worker']));
      expect(stored.roots).toEqual([{ name: httpSpan.name, service: 'gateway' }]);
      const stranger = await token('initech', 'ivan', 'Admin');
      expect((await graphql(TRACE, stranger, { id: traceId })).data?.trace).toBeNull();
    },
    PLATFORM_TIMEOUT_MS,
  );

  it(
    'gives ask and askStream answers the id of their own stored trace',
    async () => {
      const acme = await token('acme', 'alice', 'Admin');
      const question = 'What is the default port of the PostgreSQL server?';
      const asked = (await graphql('query Ask($q: String!) { ask(question: $q) { traceId } }', acme, {
        q: question,
      })) as { data?: { ask?: { traceId: string | null } }; errors?: unknown[] };
      expect(asked.errors).toBeUndefined();
      const traceId = asked.data?.ask?.traceId;
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      // The id is the request's trace: the gateway's operation span is in it.
      const operation = await eventually(
        () => received.find((s) => s.name === 'query Ask' && s.service === 'gateway'),
        'the gateway operation span of ask',
      );
      expect(operation.traceId).toBe(traceId);

      // askStream's answer names the trace of its subscription, through the gateway's stream to knowledge.
      const client = createClient({
        url: gatewayUrl.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${acme}` },
        retryAttempts: 0,
      });
      let streamedId: string | null | undefined;
      try {
        for await (const result of client.iterate<{ askStream: { traceId?: string | null } }>({
          query:
            'subscription AskStream($q: String!) { askStream(question: $q) { ... on Answer { traceId } } }',
          variables: { q: question },
        })) {
          expect(result.errors).toBeUndefined();
          if (result.data?.askStream.traceId !== undefined) streamedId = result.data.askStream.traceId;
        }
      } finally {
        await client.dispose();
      }
      expect(streamedId).toMatch(/^[0-9a-f]{32}$/);
      expect(streamedId).not.toBe(traceId);

      // trace(id) opens each: the spans the gateway and the knowledge service stored under that id.
      const TRACE = 'query ($id: ID!) { trace(id: $id) { id services spans { name } } }';
      for (const id of [traceId, streamedId]) {
        const stored = (await eventually(async () => {
          const found = (await graphql(TRACE, acme, { id })).data?.trace as
            | { id: string; services: string[]; spans: { name: string }[] }
            | null
            | undefined;
          return found &&
            ['gateway', 'knowledge'].every((s) => found.services.includes(s)) &&
            found.spans.some((s) => s.name === 'knowledge.ask')
            ? found
            : undefined;
        }, `the stored trace ${id}`)) as { id: string; spans: { name: string }[] };
        expect(stored.id).toBe(id);
        expect(stored.spans.map((s) => s.name)).toEqual(
          expect.arrayContaining(['knowledge.ask', 'knowledge.generation']),
        );
      }
    },
    PLATFORM_TIMEOUT_MS,
  );
});
