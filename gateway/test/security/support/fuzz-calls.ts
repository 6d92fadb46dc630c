// The fuzz suite's calls: every argument of every root field of the supergraph (through the gateway)
// and of each subgraph's SDL (straight to the subgraph), each given hostile values of its type;
// `_entities` with hostile representations; and malformed requests around valid operations.
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import {
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isObjectType,
} from 'graphql';
import { declaredRoles } from '#kernel/graphql/roles.ts';
import { SUPERGRAPH_FILE } from '../../../src/compose.ts';
import {
  type Hostile,
  hostileCursors,
  hostileDates,
  hostileIds,
  hostileInts,
  hostileOthers,
  hostileStrings,
  type Random,
} from './fuzz-values.ts';
import {
  operationFor,
  type RootField,
  requiredVariables,
  SUBGRAPH_NAMES,
  subgraphSchemas,
} from './operations.ts';

/** Where a call goes. */
export type FuzzTarget = 'gateway' | (typeof SUBGRAPH_NAMES)[number];

/** One generated HTTP call. */
export interface FuzzCall {
  target: FuzzTarget;
  /** What is being tried, for the report: `agent task(id: uuid with NUL)`. */
  label: string;
  roles: string[];
  method: 'POST' | 'GET';
  /** The POST body, verbatim (it may hold JSON numbers JSON.stringify cannot write). */
  body?: string;
  /** The GET query string. */
  search?: string;
}

/** Role sets the calls carry: each single role and a wide one. */
const ROLE_SETS = [['Reader'], ['Contributor'], ['Approver'], ['Admin'], ['Auditor'], ['Admin', 'Auditor']];

/** How many hostile values each argument gets per target (a sample of its type's pool). */
export const VALUES_PER_ARGUMENT = 9;

interface Leaf {
  path: string[];
  type: GraphQLInputType;
}

/** Every argument position of a field: each argument, and each field of its input objects. */
function leaves(field: GraphQLField<unknown, unknown>): Leaf[] {
  const out: Leaf[] = [];
  const visit = (type: GraphQLInputType, path: string[], seen: Set<string>) => {
    out.push({ path, type });
    const named = getNamedType(type);
    if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const f of Object.values(named.getFields()))
        visit(f.type, [...path, f.name], new Set([...seen, named.name]));
    }
  };
  for (const arg of field.args) visit(arg.type, [arg.name], new Set());
  return out;
}

/** The pool of hostile values for an argument, by its type and name. */
function poolFor(leaf: Leaf, random: Random, extraIds: Hostile[]): Hostile[] {
  const named = getNamedType(leaf.type);
  const name = leaf.path.at(-1) ?? '';
  if (name === 'after') return [...hostileCursors(random), ...hostileStrings(random).slice(0, 6)];
  if (named.name === 'ID') return [...hostileIds(random), ...extraIds, ...hostileStrings(random).slice(0, 6)];
  if (named.name === 'String') return hostileStrings(random);
  if (named.name === 'Int' || named.name === 'Float')
    return [...hostileInts(), ...hostileOthers().slice(0, 3)];
  if (named.name === 'DateTime') return [...hostileDates(), ...hostileOthers().slice(0, 3)];
  if (isEnumType(named) || named.name === 'Boolean' || isInputObjectType(named))
    return [...hostileOthers(), ...hostileStrings(random).slice(0, 4), ...hostileInts().slice(0, 3)];
  return [...hostileStrings(random).slice(0, 8), ...hostileOthers()];
}

/** Sets `value` at `path` (creating input objects on the way) in a copy of `vars`. */
function place(vars: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(vars);
  let node = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1) as string] = value;
  return copy;
}

/** A POST body with `hostile` at `path` of the variables (verbatim JSON text when it has `raw`). */
function bodyWith(query: string, vars: Record<string, unknown>, path: string[], hostile: Hostile): string {
  if (hostile.raw === undefined)
    return JSON.stringify({ query, variables: place(vars, path, hostile.value) });
  return JSON.stringify({ query, variables: place(vars, path, '\u0001raw\u0001') }).replace(
    JSON.stringify('\u0001raw\u0001'),
    hostile.raw,
  );
}

function rolesFor(root: RootField, random: Random): string[] {
  // Mostly a role the field admits (so the value reaches the resolver), sometimes any role.
  if (root.roles.length > 0 && random.next() < 0.75) return [random.pick(root.roles)];
  return random.pick(ROLE_SETS);
}

/** The root fields of a schema as the attack helpers describe them. */
function rootsOf(schema: GraphQLSchema, subgraph: RootField['subgraph']): RootField[] {
  const roots: RootField[] = [];
  for (const [operation, type] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      if (field.name.startsWith('_')) continue;
      const roles = declaredRoles([field.astNode], `${type?.name}.${field.name}`) ?? [];
      roots.push({ subgraph, operation, name: field.name, roles, field, schema });
    }
  }
  return roots;
}

/** The supergraph's API schema (what clients of the gateway see), read from the checked-in file. */
export function supergraphApiSchema(): GraphQLSchema {
  return Supergraph.build(readFileSync(SUPERGRAPH_FILE, 'utf8')).apiSchema().toGraphQLJSSchema();
}

/** Calls that put hostile values into every argument of every root field of `schema`. */
function argumentCalls(
  target: FuzzTarget,
  roots: RootField[],
  random: Random,
  extraIds: Hostile[],
  roleOf: (root: RootField) => string[],
): FuzzCall[] {
  const calls: FuzzCall[] = [];
  for (const root of roots) {
    const base = requiredVariables(root.field);
    for (const leaf of leaves(root.field)) {
      const withArg = leaf.path[0] as string;
      const declared = { ...base, [withArg]: base[withArg] ?? null };
      const query = operationFor(root, declared, 2);
      for (const hostile of random.sample(poolFor(leaf, random, extraIds), VALUES_PER_ARGUMENT)) {
        calls.push({
          target,
          label: `${target} ${root.name}(${leaf.path.join('.')}: ${hostile.name})`,
          roles: roleOf(root),
          method: 'POST',
          body: bodyWith(query, declared, leaf.path, hostile),
        });
      }
    }
  }
  return calls;
}

/** `_entities` with hostile representations, for each entity type of a subgraph. */
function entityCalls(target: FuzzTarget, schema: GraphQLSchema, random: Random): FuzzCall[] {
  const entities = Object.values(schema.getTypeMap()).filter(
    (t) => isObjectType(t) && t.astNode?.directives?.some((d) => d.name.value === 'key'),
  );
  const calls: FuzzCall[] = [];
  const query = (type: string) =>
    `query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on ${type} { id } } }`;
  for (const type of entities) {
    const values: Hostile[] = [
      ...random.sample(hostileIds(random), 5),
      ...random.sample(hostileStrings(random), 3),
    ];
    for (const hostile of values) {
      calls.push({
        target,
        label: `${target} _entities(${type.name} id: ${hostile.name})`,
        roles: random.pick(ROLE_SETS),
        method: 'POST',
        body: JSON.stringify({
          query: query(type.name),
          variables: { r: [{ __typename: type.name, id: hostile.value }] },
        }),
      });
    }
    const shapes: [string, unknown][] = [
      ['a representation without __typename', [{ id: '00000000-0000-4000-8000-000000000000' }]],
      ['a representation that is a string', ['Task']],
      ['a hostile __typename', [{ __typename: 'Task\u0000\uD800', id: 'x' }]],
      ['representations as an object', { __typename: type.name }],
    ];
    for (const [name, r] of shapes) {
      calls.push({
        target,
        label: `${target} _entities(${type.name}: ${name})`,
        roles: ['Admin', 'Auditor'],
        method: 'POST',
        body: JSON.stringify({ query: query(type.name), variables: { r } }),
      });
    }
  }
  return calls;
}

/** Malformed requests around a valid operation: request members of the wrong type, broken JSON, GET oddities. */
function requestCalls(target: FuzzTarget, random: Random): FuzzCall[] {
  const query = '{ __typename }';
  const members: [string, unknown][] = [
    ['persistedQuery a string', { query, extensions: { persistedQuery: 'x' } }],
    [
      'persistedQuery version 2',
      { query, extensions: { persistedQuery: { version: 2, sha256Hash: 'a'.repeat(64) } } },
    ],
    [
      'persistedQuery hash a number',
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: 123 } } },
    ],
    [
      'persistedQuery hash an object',
      { extensions: { persistedQuery: { version: 1, sha256Hash: { a: 1 } } } },
    ],
    ['persistedQuery hash not hex', { extensions: { persistedQuery: { version: 1, sha256Hash: 'zz' } } }],
    [
      'persistedQuery hash mismatch',
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } },
    ],
    [
      'persistedQuery unknown hash',
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'b'.repeat(64) } } },
    ],
    ['persistedQuery an array', { query, extensions: { persistedQuery: [1] } }],
    ['extensions an array', { query, extensions: [] }],
    ['extensions a string', { query, extensions: 'persistedQuery' }],
    ['extensions a number', { query, extensions: 5 }],
    ['variables a string', { query, variables: '{"a":1}' }],
    ['variables an array', { query, variables: [1, 2] }],
    ['variables a number', { query, variables: 1 }],
    ['operationName a number', { query, operationName: 5 }],
    ['operationName an object', { query, operationName: { a: 1 } }],
    ['operationName an array', { query, operationName: ['A'] }],
    ['operationName with NUL', { query, operationName: 'A\u0000' }],
    ['operationName naming nothing', { query: 'query A { __typename }', operationName: 'B' }],
    ['query a number', { query: 5 }],
    ['query an object', { query: { kind: 'Document' } }],
    ['query null', { query: null }],
    ['no query', {}],
    ['query with NUL', { query: '{ __typename \u0000 }' }],
    ['query with a lone surrogate', { query: '{ __typename } # \uD800' }],
    ['query of random bytes', { query: random.bytes(200).toString('latin1') }],
    ['two anonymous operations', { query: '{ __typename } { __typename }' }],
    ['body a string', 'query'],
    ['body a number', 42],
    ['body null', null],
    ['body a batch', [{ query }, { query }]],
  ];
  const calls: FuzzCall[] = members.map(([name, body]) => ({
    target,
    label: `${target} request(${name})`,
    roles: ['Reader'],
    method: 'POST',
    body: JSON.stringify(body),
  }));
  calls.push({
    target,
    label: `${target} request(invalid JSON)`,
    roles: ['Reader'],
    method: 'POST',
    body: '{"query": "{ __typename }"',
  });
  calls.push({
    target,
    label: `${target} request(random bytes)`,
    roles: ['Reader'],
    method: 'POST',
    body: random.bytes(100).toString('latin1'),
  });
  calls.push({
    target,
    label: `${target} request(JSON with a 1e400 variable)`,
    roles: ['Reader'],
    method: 'POST',
    body: `{"query": "${query}", "variables": {"a": 1e400}}`,
  });
  for (const [name, search] of [
    ['GET variables not JSON', `?query=${encodeURIComponent(query)}&variables=%7Bnope`],
    ['GET extensions not JSON', `?query=${encodeURIComponent(query)}&extensions=%5B`],
    ['GET persistedQuery a number', `?extensions=${encodeURIComponent('{"persistedQuery":5}')}`],
    ['GET query with NUL', `?query=${encodeURIComponent('{ __typename \u0000 }')}`],
  ] as const) {
    calls.push({ target, label: `${target} request(${name})`, roles: ['Reader'], method: 'GET', search });
  }
  return calls;
}

/** Every call of one run, in a fixed order for a given seed. */
export function fuzzCalls(random: Random, extraIds: Hostile[] = []): Record<FuzzTarget, FuzzCall[]> {
  const schemas = subgraphSchemas();
  const out = {} as Record<FuzzTarget, FuzzCall[]>;
  const roleOf = (root: RootField) => rolesFor(root, random);
  const api = supergraphApiSchema();
  out.gateway = [
    ...argumentCalls('gateway', rootsOfSupergraph(api, schemas), random, extraIds, roleOf),
    ...requestCalls('gateway', random),
    ...limitCalls(),
  ];
  for (const name of SUBGRAPH_NAMES) {
    out[name] = [
      ...argumentCalls(name, rootsOf(schemas[name], name), random, extraIds, roleOf),
      ...entityCalls(name, schemas[name], random),
      ...requestCalls(name, random),
    ];
  }
  return out;
}

/** The supergraph's root fields, with the roles the subgraph that serves each declares. */
function rootsOfSupergraph(api: GraphQLSchema, schemas: Record<string, GraphQLSchema>): RootField[] {
  const declared = new Map<string, RootField>();
  for (const name of SUBGRAPH_NAMES)
    for (const root of rootsOf(schemas[name] as GraphQLSchema, name))
      declared.set(`${root.operation}.${root.name}`, root);
  const roots: RootField[] = [];
  for (const [operation, type] of [
    ['query', api.getQueryType()],
    ['mutation', api.getMutationType()],
  ] as const) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const origin = declared.get(`${operation}.${field.name}`);
      if (!origin) throw new Error(`supergraph field ${operation}.${field.name} is in no subgraph's SDL`);
      roots.push({ ...origin, field: field as GraphQLField<unknown, unknown>, schema: api });
    }
  }
  return roots;
}

/** Operations past the gateway's limits: its own refusals, which it must audit as well. */
function limitCalls(): FuzzCall[] {
  let nested = 'id';
  for (let i = 0; i < 10; i += 1) nested = `approvals { task { ${nested} } }`;
  const shapes: [string, string][] = [
    ['nested past the depth limit', `{ tasks { edges { node { ${nested} } } } }`],
    [
      'past the alias limit',
      `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: killSwitch { engaged }`).join(' ')} }`,
    ],
    [
      'past the token limit',
      `{ ${Array.from({ length: 1_600 }, () => 'killSwitch { engaged }').join(' ')} }`,
    ],
    ['an unknown field', '{ taskz { id } }'],
    ['a variable of the wrong type', 'query ($n: Int) { tasks(first: $n) { edges { cursor } } }'],
  ];
  return shapes.map(([name, query]) => ({
    target: 'gateway' as const,
    label: `gateway limits(${name})`,
    roles: ['Reader'],
    method: 'POST' as const,
    body: JSON.stringify({ query, variables: { n: 'many' } }),
  }));
}
