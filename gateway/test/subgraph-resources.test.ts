// Resource test: the largest operation each limit allows, sent concurrently straight to every
// subgraph (zero trust: they are reachable without the gateway). Each keeps answering /ready and its
// memory stays bounded. Figures are printed; only liveness and the memory bound are asserted.
import { readFile } from 'node:fs/promises';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getOperationAST,
  isLeafType,
  isNonNullType,
  parse,
} from 'graphql';
import { measureCost } from '#kernel/graphql/limits/cost.ts';
import { countTokens, DEFAULT_OPERATION_LIMITS } from '#kernel/graphql/limits/operation-limits.ts';
import type { SubgraphName } from '../src/config.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const LIMITS = DEFAULT_OPERATION_LIMITS;
/** Copies of each operation in flight at once, per subgraph. */
const CONCURRENCY = 4;
const ROUNDS = 1;
/** Liveness: /ready must answer within this (a generous bound, not a performance threshold). */
const READY_TIMEOUT_MS = 30_000;
const MEMORY_BOUND_MB = 300;
/** Approvals on the seeded task: more than the cost rule's assumed list size (20). */
const APPROVALS = 40;

interface Operation {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

let platform: TestPlatform;
let admin: string;
let taskId: string;
let approvalId: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  admin = await platform.issuer.token('acme', 'ada', ['Admin', 'Auditor']);
  const created = await platform.post(
    { query: 'mutation { createTask(input: { title: "load" }) { id } } ' },
    admin,
  );
  taskId = (created.body.data as { createTask: { id: string } }).createTask.id;
  for (let i = 0; i < APPROVALS; i += 1) {
    const res = await platform.post(
      {
        query:
          'mutation ($t: ID!) { requestApproval(input: { taskId: $t, riskLevel: HIGH, reason: "r" }) { id } }',
        variables: { t: taskId },
      },
      admin,
    );
    approvalId = (res.body.data as { requestApproval: { id: string } }).requestApproval.id;
  }
}, 120_000);
afterAll(async () => {
  await platform?.close();
});

async function subgraphSchema(name: SubgraphName): Promise<GraphQLSchema> {
  const sdl = await readFile(new URL(`../../subgraphs/${name}/schema.graphql`, import.meta.url), 'utf8');
  return buildSubgraphSchema([{ typeDefs: parse(sdl) }]);
}

/** The leaf fields of a type that need no argument: the widest cheap selection. */
function leaves(schema: GraphQLSchema, typeName: string): string {
  const type = schema.getType(typeName) as GraphQLObjectType;
  return Object.values(type.getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)))
    .map((f) => f.name)
    .join(' ');
}

function cost(schema: GraphQLSchema, operation: Operation): number {
  const document = parse(operation.query);
  return measureCost(
    schema,
    document,
    getOperationAST(document)!,
    operation.variables ?? {},
    LIMITS.listSize,
  );
}

/** The largest operations each limit allows against one subgraph's root connection and entity type. */
function largestOperations(
  schema: GraphQLSchema,
  root: { field: string; node: string },
  entity: { type: string; id: string },
): Operation[] {
  const fields = leaves(schema, root.node);
  const width = fields.split(' ').length;
  // Aliases × page size up to the cost limit (pages hold at most 100 items).
  const perAlias = Math.floor(LIMITS.maxCost / LIMITS.maxAliases);
  const page = Math.min(100, Math.floor((perAlias - 1) / (2 + width)));
  const aliased = Array.from(
    { length: LIMITS.maxAliases },
    (_, i) => `a${i}: ${root.field}(first: ${page}) { edges { node { ${fields} } } }`,
  ).join(' ');
  // As many representations as the cost allows, up to the entities limit.
  const entityFields = leaves(schema, entity.type);
  const entityWidth = entityFields.split(' ').length;
  const count = Math.min(LIMITS.maxEntities, Math.floor((LIMITS.maxCost - 1) / (1 + entityWidth)));
  const representations = Array.from({ length: count }, () => ({ __typename: entity.type, id: entity.id }));
  // The largest valid document the token limit allows: literal representations (8 tokens each) up to
  // the entities limit, then directives up to theirs. (Thousands of identical fields are refused by
  // graphql-js's own overlap budget before any limit of ours.)
  const reps = Math.min(
    LIMITS.maxEntities,
    Math.floor((LIMITS.maxTokens - 15 - 13 * LIMITS.maxDirectives) / 8),
  );
  const literal = Array.from({ length: reps }, () => `{ __typename: "${entity.type}", id: "${entity.id}" }`);
  const directives = Array.from(
    { length: Math.min(LIMITS.maxDirectives, Math.floor((LIMITS.maxCost - 1) / reps)) },
    () => `... on ${entity.type} @include(if: true) { id }`,
  );
  return [
    { name: 'aliases×cost', query: `{ ${aliased} }` },
    {
      name: 'entities',
      query: `query ($r: [_Any!]!) { _entities(representations: $r) { ... on ${entity.type} { ${entityFields} } } }`,
      variables: { r: representations },
    },
    {
      name: 'tokens',
      query: `{ _entities(representations: [${literal.join(' ')}]) { ${directives.join(' ')} } }`,
    },
  ];
}

/** Governance's recursive entity fields nested as deep as cost and depth allow. */
function deepestRecursion(schema: GraphQLSchema): Operation {
  const fields = leaves(schema, 'ApprovalRequest');
  const nest = (levels: number): string =>
    levels === 0 ? fields : `task { approvals { ${nest(levels - 1)} } }`;
  let levels = 1;
  const at = (n: number) => ({
    name: `recursion ×${n}`,
    query: `query ($id: ID!) { approvalRequest(id: $id) { ${nest(n)} } }`,
    variables: { id: approvalId },
  });
  while (cost(schema, at(levels + 1)) <= LIMITS.maxCost && 2 * (levels + 1) + 2 <= LIMITS.maxDepth)
    levels += 1;
  return at(levels);
}

interface Sample {
  ms: number;
  status: number;
}

async function pollReady(url: string, samples: Sample[], stop: () => boolean): Promise<void> {
  const ready = url.replace(/\/graphql$/, '/ready');
  while (!stop()) {
    const started = performance.now();
    const res = await fetch(ready, { signal: AbortSignal.timeout(READY_TIMEOUT_MS) }).catch(() => undefined);
    samples.push({ ms: performance.now() - started, status: res?.status ?? 0 });
    await res?.body?.cancel();
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('keeps every subgraph ready and its memory bounded under the largest operations the limits allow', async () => {
  const schemas = {
    agent: await subgraphSchema('agent'),
    knowledge: await subgraphSchema('knowledge'),
    audit: await subgraphSchema('audit'),
    governance: await subgraphSchema('governance'),
  };
  const plan: Record<SubgraphName, Operation[]> = {
    agent: largestOperations(schemas.agent, { field: 'tasks', node: 'Task' }, { type: 'Task', id: taskId }),
    knowledge: largestOperations(
      schemas.knowledge,
      { field: 'documents', node: 'Document' },
      { type: 'Document', id: taskId },
    ),
    audit: largestOperations(
      schemas.audit,
      { field: 'auditEvents', node: 'AuditEvent' },
      { type: 'AuditEvent', id: taskId },
    ),
    governance: [
      ...largestOperations(
        schemas.governance,
        { field: 'approvalRequests', node: 'ApprovalRequest' },
        { type: 'Task', id: taskId },
      ),
      deepestRecursion(schemas.governance),
    ],
  };
  for (const [name, operations] of Object.entries(plan) as [SubgraphName, Operation[]][]) {
    for (const operation of operations) {
      // Each is the largest its limits allow: within every one of them.
      expect({ name, op: operation.name, within: cost(schemas[name], operation) <= LIMITS.maxCost }).toEqual({
        name,
        op: operation.name,
        within: true,
      });
      expect(countTokens(operation.query)).toBeLessThanOrEqual(LIMITS.maxTokens);
    }
  }

  const ready = Object.fromEntries(Object.keys(plan).map((name) => [name, [] as Sample[]])) as Record<
    SubgraphName,
    Sample[]
  >;
  const growth: Record<string, { rss: number; heapUsed: number; base: NodeJS.MemoryUsage }> = {};
  const outcomes: Record<string, number> = {};
  const started = performance.now();
  // One subgraph at a time (all run in this process), so each phase's memory growth is that subgraph's.
  for (const [name, operations] of Object.entries(plan) as [SubgraphName, Operation[]][]) {
    const base = process.memoryUsage();
    let peak = { rss: base.rss, heapUsed: base.heapUsed };
    let done = false;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak = { rss: Math.max(peak.rss, now.rss), heapUsed: Math.max(peak.heapUsed, now.heapUsed) };
    }, 50);
    const poller = pollReady(platform.subgraphs[name].url, ready[name], () => done);
    try {
      for (let round = 0; round < ROUNDS; round += 1) {
        await Promise.all(
          operations.flatMap((operation) =>
            Array.from({ length: CONCURRENCY }, async () => {
              const res = await platform.post(
                { query: operation.query, variables: operation.variables },
                admin,
                platform.subgraphs[name].url,
              );
              const code = res.body.errors?.[0]?.extensions?.code;
              const key = `${name} ${operation.name}: ${res.status}${code ? ` ${code}` : ''}`;
              outcomes[key] = (outcomes[key] ?? 0) + 1;
            }),
          ),
        );
      }
    } finally {
      done = true;
      await poller;
      clearInterval(sampler);
    }
    growth[name] = { rss: peak.rss - base.rss, heapUsed: peak.heapUsed - base.heapUsed, base };
  }
  const seconds = (performance.now() - started) / 1000;
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const figures = [
    `resource test: ${ROUNDS} rounds × ${CONCURRENCY} concurrent copies in ${seconds.toFixed(1)} s`,
    ...Object.entries(outcomes).map(([key, n]) => `  ${key} × ${n}`),
    ...Object.entries(ready).map(
      ([name, samples]) =>
        `  ${name} /ready: ${samples.length} answers (${samples.filter((s) => s.status === 200).length} ready), max ${Math.max(...samples.map((s) => s.ms)).toFixed(0)} ms`,
    ),
    ...Object.entries(growth).map(
      ([name, g]) =>
        `  ${name} memory: rss ${mb(g.base.rss)} MB +${mb(g.rss)} MB, heap ${mb(g.base.heapUsed)} MB +${mb(g.heapUsed)} MB at peak`,
    ),
  ];
  process.stdout.write(`${figures.join('\n')}\n`);

  // No answer is a server failure: each operation ran or was refused by a limit.
  for (const key of Object.keys(outcomes)) expect(key).not.toMatch(/: 5\d\d|INTERNAL_SERVER_ERROR/);
  for (const [name, samples] of Object.entries(ready)) {
    // Every probe answered (200 ready, or 503 when its database is saturated) within the liveness bound.
    expect({
      name,
      answered: samples.length > 0 && samples.every((s) => s.status === 200 || s.status === 503),
    }).toEqual({
      name,
      answered: true,
    });
  }
  for (const [name, g] of Object.entries(growth)) {
    expect({ name, rss: mb(g.rss) < MEMORY_BOUND_MB, heap: mb(g.heapUsed) < MEMORY_BOUND_MB }).toEqual({
      name,
      rss: true,
      heap: true,
    });
  }
}, 600_000);
