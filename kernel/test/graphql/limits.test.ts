import { buildSchema, getIntrospectionQuery, getOperationAST, parse } from 'graphql';
import { measureCost } from '#kernel/graphql/limits/cost.ts';
import { loadOperationLimits } from '#kernel/graphql/limits/limits-config.ts';
import {
  countTokens,
  DEFAULT_LIST_SIZE,
  DEFAULT_OPERATION_LIMITS,
  type OperationLimits,
} from '#kernel/graphql/limits/operation-limits.ts';
import { useOperationLimits } from '#kernel/graphql/limits/use-operation-limits.ts';
import { createPipeline } from '#kernel/graphql/pipeline/pipeline.ts';
import { withoutSuggestions } from '#kernel/graphql/pipeline/use-hidden-suggestions.ts';
import { createLogger } from '#kernel/logger.ts';

const schema = buildSchema(`
  scalar _Any
  union _Entity = Node
  type Query {
    node: Node, items(first: Int): ItemConnection!, tags: [String!]!
    _entities(representations: [_Any!]!): [_Entity]!
  }
  type Node { id: ID!, child: Node, children: [Node!]! }
  type ItemConnection { edges: [ItemEdge!]! }
  type ItemEdge { node: Node! }
`);

function cost(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return measureCost(schema, document, getOperationAST(document)!, variables, DEFAULT_LIST_SIZE);
}

/** The first refusal the shared limits plugin gives, as `{ code, found, max }`, or `undefined`. */
async function refusal(query: string, limits: Partial<OperationLimits> = {}, variables = {}) {
  const pipeline = createPipeline([
    useOperationLimits({
      limits: { ...DEFAULT_OPERATION_LIMITS, ...limits },
      logger: createLogger('test', { level: 'silent' }),
    }),
  ]);
  const result = await pipeline.prepare(schema, { query, variables }, {}, 'http');
  if (!Array.isArray(result)) return undefined;
  const [error] = result as { message: string; extensions: Record<string, unknown> }[];
  const { code, found, max } = error?.extensions ?? {};
  return { code, found, max, message: error?.message };
}

describe('the cost rule (ours: graphql-armor cannot multiply by `first`)', () => {
  it('multiplies by `first` (literal, variable or default) and does not count connection edges twice', () => {
    // items 1 + n × (edges 1 + 1 × (node 1 + id 1))
    expect(cost('{ items(first: 5) { edges { node { id } } } }')).toBe(1 + 5 * 3);
    expect(cost('query ($n: Int) { items(first: $n) { edges { node { id } } } }', { n: 7 })).toBe(1 + 7 * 3);
    expect(cost('{ items { edges { node { id } } } }')).toBe(1 + DEFAULT_LIST_SIZE * 3);
  });

  it('multiplies plain list fields by the default list size, recursive lists compounding', () => {
    expect(cost('{ node { children { id } } }')).toBe(1 + (1 + DEFAULT_LIST_SIZE));
    expect(cost('{ node { children { children { id } } } }')).toBe(
      1 + 1 + DEFAULT_LIST_SIZE * (1 + DEFAULT_LIST_SIZE),
    );
    // approvalRequest { task { approvals { task { approvals … } } } }: each level multiplies.
    const nested = (levels: number): string =>
      levels === 0 ? 'id' : `children { child { ${nested(levels - 1)} } }`;
    expect(cost(`{ node { ${nested(4)} } }`)).toBeGreaterThan(DEFAULT_LIST_SIZE ** 4);
  });

  it('multiplies `_entities` by its representations, from a variable or a literal', () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }';
    const representations = Array.from({ length: 300 }, (_, i) => ({ __typename: 'Node', id: `${i}` }));
    expect(cost(query, { r: representations })).toBe(1 + 300 * 1);
    expect(cost('{ _entities(representations: [{a: 1}, {a: 2}]) { ... on Node { id } } }')).toBe(1 + 2);
  });

  it('measures a repeated fragment once per spread without re-walking it', () => {
    const spreads = Array.from({ length: 10 }, () => '...A').join(' ');
    expect(cost(`{ node { ${spreads} } } fragment A on Node { id }`)).toBe(1 + 10);
  });

  it('counts tokens', () => {
    expect(countTokens('{ node { id } }')).toBe(6);
    expect(countTokens('# a comment\n{ a: node }')).toBe(5);
  });
});

describe('the shared operation limits (graphql-armor depth, aliases, directives; our cost and entities)', () => {
  it('refuses one level too deep, counting through fragments, and passes at the limit', async () => {
    expect(await refusal('{ node { child { id } } }', { maxDepth: 3 })).toBeUndefined();
    expect(
      await refusal('{ node { ...A } } fragment A on Node { child { child { id } } }', { maxDepth: 3 }),
    ).toEqual({
      code: 'QUERY_TOO_DEEP',
      found: 4,
      max: 3,
      message: 'The query is nested 4 levels deep; the depth limit is 3. Ask for less nesting.',
    });
  });

  it('lets the standard introspection query through at the default depth', async () => {
    expect(await refusal(getIntrospectionQuery())).toBeUndefined();
  });

  it('counts aliases through every spread of a fragment', async () => {
    const query = '{ node { ...A ...A } } fragment A on Node { a: id b: id }';
    expect(await refusal(query, { maxAliases: 4 })).toBeUndefined();
    expect(await refusal(query, { maxAliases: 3 })).toMatchObject({
      code: 'TOO_MANY_ALIASES',
      found: 4,
      max: 3,
    });
  });

  it('refuses too many directives', async () => {
    const fields = Array.from({ length: 6 }, () => 'id @include(if: true)').join(' ');
    expect(await refusal(`{ node { ${fields} } }`, { maxDirectives: 6 })).toBeUndefined();
    expect(await refusal(`{ node { ${fields} } }`, { maxDirectives: 5 })).toMatchObject({
      code: 'TOO_MANY_DIRECTIVES',
      found: 6,
      max: 5,
    });
  });

  it('refuses more `_entities` representations than allowed, before the cost', async () => {
    const query = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }';
    const r = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Node', id: `${i}` }));
    expect(await refusal(query, { maxEntities: 10 }, { r: r(10) })).toBeUndefined();
    expect(await refusal(query, { maxEntities: 10 }, { r: r(11) })).toMatchObject({
      code: 'TOO_MANY_ENTITIES',
      found: 11,
      max: 10,
    });
  });

  it('refuses past the cost and the token limit', async () => {
    expect(await refusal('{ items { edges { node { id } } } }', { maxCost: 60 })).toMatchObject({
      code: 'QUERY_TOO_COSTLY',
      found: 61,
    });
    expect(await refusal('{ node { id id id } }', { maxTokens: 6 })).toMatchObject({
      code: 'QUERY_TOO_LARGE',
      found: 8,
      max: 6,
    });
  });
});

describe('limits configuration', () => {
  it('reads GRAPHQL_MAX_* (and the older GATEWAY_MAX_* names), defaulting the rest', () => {
    expect(loadOperationLimits({})).toEqual(DEFAULT_OPERATION_LIMITS);
    expect(
      loadOperationLimits({ GRAPHQL_MAX_DEPTH: '9', GATEWAY_MAX_COST: '500', GRAPHQL_MAX_ENTITIES: '50' }),
    ).toEqual({ ...DEFAULT_OPERATION_LIMITS, maxDepth: 9, maxCost: 500, maxEntities: 50 });
  });

  it('names every bad variable', () => {
    expect(() => loadOperationLimits({ GRAPHQL_MAX_DEPTH: 'deep', GRAPHQL_MAX_TOKENS: '5' })).toThrow(
      /GRAPHQL_MAX_DEPTH must be a whole number[\s\S]*GRAPHQL_MAX_TOKENS must be at least 10/,
    );
  });
});

describe('suggestions in production', () => {
  it('removes every form of "Did you mean"', () => {
    expect(withoutSuggestions('Cannot query field "tsks" on type "Query". Did you mean "tasks"?')).toBe(
      'Cannot query field "tsks" on type "Query".',
    );
    expect(
      withoutSuggestions('Value "PENDNG" does not exist in "S" enum. Did you mean the enum value "PENDING"?'),
    ).toBe('Value "PENDNG" does not exist in "S" enum.');
    expect(withoutSuggestions('Unknown type "Tsk". Did you mean "Task", "Tag", or "Tab"?')).toBe(
      'Unknown type "Tsk".',
    );
  });
});
