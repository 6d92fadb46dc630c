// Injection strings in every String and ID argument of every operation (generated from the SDL),
// and operations shaped to exhaust the gateway: depth, aliases, cost, size, batches, introspection.
import {
  operationFor,
  requiredVariables,
  rootFields,
  stringArguments,
  withValue,
} from './support/operations.ts';
import type { World } from './support/seed.ts';
import { type AttackCase, attackSuite } from './support/suite.ts';

const suite = attackSuite('injection-and-limits');

/** Strings that would widen a query, break out of a literal or confuse a parser. */
const PAYLOADS: [string, (w: World) => string][] = [
  ['SQL tautology', () => "' or 1=1 --"],
  ['SQL drop table', () => "'; drop table agent.tasks; --"],
  ['SQL tenant escape', (w) => `x' or tenant_id = '${w.victim.tenantId}' --`],
  ['NUL byte', () => 'before\u0000after'],
  ['huge string (200 kB)', () => 'A'.repeat(200_000)],
  ['unicode tricks (RTL override, zero width, homoglyph)', () => '\u202eadmin\u200b\u0430dmin\ufeff'],
  ['JSON-looking tenant override', (w) => JSON.stringify({ tenant_id: w.victim.tenantId, $ne: null })],
  [
    'LIKE wildcard and set_config',
    () => "%' ; select set_config('app.tenant_id', '00000000-0000-4000-8000-000000000000', false); --",
  ],
];

const injections: AttackCase[] = rootFields().flatMap((root) =>
  stringArguments(root.field).flatMap((arg) =>
    PAYLOADS.map(([payloadName, payload]) => ({
      name: `${root.name}(${arg.path.join('.')}: ${payloadName})`,
      class: 'injection' as const,
      target: 'gateway',
      expect: { kind: 'no-leak' as const },
      build: async (w: World) => {
        const variables = withValue(requiredVariables(root.field), arg.path, payload(w), root.field);
        return {
          url: w.targets.gateway,
          token: await w.intruder(['Admin', 'Auditor']),
          query: operationFor(root, variables),
          variables,
        };
      },
    })),
  ),
);

const nest = (levels: number) => {
  let inner = 'id';
  for (let i = 0; i < levels; i += 1) inner = `approvals { task { ${inner} } }`;
  return `{ tasks { edges { node { ${inner} } } } }`;
};
const aliases = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `k${i}: killSwitch { engaged reason }`).join(' ')} }`;
const costly =
  '{ tasks(first: 100) { edges { node { approvals { task { approvals { task { approvals { id reason } } } } } } } } }';
const tokens = `{ ${Array.from({ length: 2_500 }, () => 'killSwitch { engaged }').join(' ')} }`;

/** Every level here passes a list, so a barely-too-deep query is also too costly: either refusal will do. */
const DEEP = ['QUERY_TOO_DEEP', 'QUERY_TOO_COSTLY'];

/** Operation shapes the gateway must refuse before planning, with the code it refuses them with. */
const SHAPES: [string, string[] | undefined, (w: World) => { query?: string; rawBody?: unknown }][] = [
  ['nested 40 levels deep', ['QUERY_TOO_DEEP'], () => ({ query: nest(20) })],
  ['nested 13 levels deep (just past the limit)', DEEP, () => ({ query: nest(5) })],
  ['200 aliases', ['TOO_MANY_ALIASES'], () => ({ query: aliases(200) })],
  ['21 aliases (just past the limit)', ['TOO_MANY_ALIASES'], () => ({ query: aliases(21) })],
  ['cost of 100 x 20 x 20 list items', ['QUERY_TOO_COSTLY'], () => ({ query: costly })],
  ['7,500 tokens', ['QUERY_TOO_LARGE'], () => ({ query: tokens })],
  ['body over 1 MB', undefined, () => ({ query: `{ killSwitch { engaged } } # ${'x'.repeat(1_100_000)}` })],
  [
    'fragment cycle',
    undefined,
    () => ({
      query: 'fragment A on Task { approvals { task { ...A } } } { tasks { edges { node { ...A } } } }',
    }),
  ],
  [
    'batch of 50 operations',
    undefined,
    () => ({
      rawBody: Array.from({ length: 50 }, () => ({ query: '{ tasks { edges { node { id title } } } }' })),
    }),
  ],
  ['introspection __schema', undefined, () => ({ query: '{ __schema { types { name fields { name } } } }' })],
  [
    'introspection __type',
    undefined,
    () => ({ query: '{ __type(name: "Query") { fields { name args { name } } } }' }),
  ],
  ['field suggestion probing', undefined, () => ({ query: '{ taskz { id } }' })],
  [
    'directive flood',
    undefined,
    () => ({ query: `{ killSwitch ${'@include(if: true) '.repeat(500)} { engaged } }` }),
  ],
  [
    'query as a JSON object',
    undefined,
    () => ({ rawBody: { query: { kind: 'Document', definitions: [] } } }),
  ],
];
const TARGETS = ['gateway', 'knowledge', 'agent', 'governance', 'audit'] as const;
const shapes: AttackCase[] = SHAPES.flatMap(([name, code, body]) =>
  // Depth, alias, cost and size limits belong to the gateway; the rest is refused everywhere.
  (code ? (['gateway'] as const) : TARGETS).map((target) => ({
    name: `query shape: ${name}`,
    class: 'query-shape' as const,
    target,
    expect: { kind: 'refused' as const, ...(code ? { codes: code } : {}) },
    build: async (w: World) => ({
      url: w.targets[target],
      token: await w.attacker.token(['Admin', 'Auditor']),
      ...body(w),
    }),
  })),
);

describe('injection strings in every string argument', () => suite.attacks(injections));
describe('operations shaped to exhaust or map the API', () => suite.attacks(shapes));

describe('after the attacks', () => {
  it("leaves the victim's audit chain intact and its data unchanged", async () => {
    const token = await suite.world.victim.token(['Admin']);
    const res = await suite.platform.post(
      { query: '{ verifyAuditChain { ok problem } tasks(first: 100) { edges { node { id } } } }' },
      token,
    );
    expect(res.body.errors).toBeUndefined();
    const data = res.body.data as { verifyAuditChain: unknown; tasks: { edges: { node: { id: string } }[] } };
    expect(data.verifyAuditChain).toEqual({ ok: true, problem: null });
    expect(data.tasks.edges.map((e) => e.node.id).sort()).toEqual([...suite.world.victim.taskIds].sort());
  });
});
