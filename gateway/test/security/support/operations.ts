import { readFileSync } from 'node:fs';
import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type OperationDefinitionNode,
  parse,
} from 'graphql';
import { measureCost } from '#kernel/graphql/limits/cost.ts';
import { DEFAULT_OPERATION_LIMITS } from '#kernel/graphql/limits/operation-limits.ts';
import { declaredRoles, type Role } from '#kernel/graphql/roles.ts';
import { agentSubgraph } from '../../../../subgraphs/agent/src/subgraph.ts';
import { auditSubgraph } from '../../../../subgraphs/audit/src/subgraph.ts';
import { governanceSubgraph } from '../../../../subgraphs/governance/src/subgraph.ts';
import { knowledgeSubgraph } from '../../../../subgraphs/knowledge/src/subgraph.ts';

/** The subgraphs whose SDL the attacks are generated from. */
export const SUBGRAPH_NAMES = ['knowledge', 'agent', 'governance', 'audit'] as const;

/** A subgraph name. */
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/** One root field of one subgraph, read from its SDL (the supergraph is composed from these). */
export interface RootField {
  subgraph: SubgraphName;
  operation: 'query' | 'mutation';
  name: string;
  roles: Role[];
  field: GraphQLField<unknown, unknown>;
  schema: GraphQLSchema;
}

/** A path to one ID or String argument, possibly inside an input object (`input.taskId`). */
export interface ArgumentPath {
  /** Dotted path from the field's arguments. */
  path: string[];
  scalar: 'ID' | 'String';
}

const definitions = {
  knowledge: knowledgeSubgraph,
  agent: agentSubgraph,
  governance: governanceSubgraph({ tasks: { exists: async () => false } }),
  audit: auditSubgraph,
};

/** The schema of each subgraph, built from its `schema.graphql` as it is on disk now. */
export function subgraphSchemas(): Record<SubgraphName, GraphQLSchema> {
  const out = {} as Record<SubgraphName, GraphQLSchema>;
  for (const name of SUBGRAPH_NAMES) {
    out[name] = buildSubgraphSchema([{ typeDefs: parse(readFileSync(definitions[name].schema, 'utf8')) }]);
  }
  return out;
}

/** Every Query and Mutation field of every subgraph, with the roles it declares. */
export function rootFields(schemas = subgraphSchemas()): RootField[] {
  const fields: RootField[] = [];
  for (const subgraph of SUBGRAPH_NAMES) {
    const schema = schemas[subgraph];
    for (const [operation, type] of [
      ['query', schema.getQueryType()],
      ['mutation', schema.getMutationType()],
    ] as const) {
      for (const field of Object.values(type?.getFields() ?? {})) {
        if (field.name.startsWith('_')) continue;
        const roles = declaredRoles([field.astNode], `${type?.name}.${field.name}`) ?? [];
        fields.push({ subgraph, operation, name: field.name, roles, field, schema });
      }
    }
  }
  return fields;
}

/** The ID and String arguments of a field, including those inside input objects. */
export function stringArguments(field: GraphQLField<unknown, unknown>): ArgumentPath[] {
  const paths: ArgumentPath[] = [];
  const visit = (type: GraphQLInputType, path: string[], seen: Set<string>) => {
    const named = getNamedType(type);
    if (named.name === 'ID' || named.name === 'String') paths.push({ path, scalar: named.name });
    else if (isInputObjectType(named) && !seen.has(named.name)) {
      for (const f of Object.values(named.getFields()))
        visit(f.type, [...path, f.name], new Set([...seen, named.name]));
    }
  };
  for (const arg of field.args) visit(arg.type, [arg.name], new Set());
  return paths;
}

/** A value that passes validation for a type (required fields filled), for the arguments not attacked. */
export function sampleValue(type: GraphQLInputType): unknown {
  const nullable = isNonNullType(type) ? type.ofType : type;
  if (isListType(nullable)) return [sampleValue(nullable.ofType)];
  const named = getNamedType(nullable) as GraphQLNamedType;
  if (isEnumType(named)) {
    const values = named.getValues();
    return (values.find((v) => v.name === 'HIGH' || v.name === 'REJECT') ?? values[0])?.name;
  }
  if (isInputObjectType(named)) {
    const value: Record<string, unknown> = {};
    for (const f of Object.values(named.getFields()))
      if (isNonNullType(f.type)) value[f.name] = sampleValue(f.type);
    return value;
  }
  switch (named.name) {
    case 'ID':
      return '00000000-0000-4000-8000-000000000000';
    case 'String':
      return 'probe';
    case 'Int':
      return 5;
    case 'Boolean':
      return true;
    case 'DateTime':
      return '2000-01-01T00:00:00.000Z';
    default:
      return 'probe';
  }
}

/** Variables with every required argument filled; `from`/`to` span all time so ranges cover every row. */
export function requiredVariables(field: GraphQLField<unknown, unknown>): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (arg.name === 'to') vars.to = '2999-01-01T00:00:00.000Z';
    else if (isNonNullType(arg.type)) vars[arg.name] = sampleValue(arg.type);
  }
  return vars;
}

/** Sets `value` at `path` inside a copy of `vars`, creating input objects on the way. */
export function withValue(
  vars: Record<string, unknown>,
  path: string[],
  value: unknown,
  field: GraphQLField<unknown, unknown>,
) {
  const copy = structuredClone(vars);
  const [head, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    copy[head] = value;
    return copy;
  }
  const arg = field.args.find((a) => a.name === head)!;
  if (copy[head] === undefined || copy[head] === null) copy[head] = sampleValue(arg.type);
  let node = copy[head] as Record<string, unknown>;
  for (const key of rest.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[rest.at(-1)!] = value;
  return copy;
}

/** Every scalar field of a type, recursing into object fields without required arguments (to `depth`). */
export function selection(type: GraphQLNamedType, depth = 3): string {
  if (!isObjectType(type) || depth === 0) return '';
  const parts = ['__typename'];
  for (const field of Object.values(type.getFields())) {
    if (field.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(field.type);
    if (isLeafType(named)) parts.push(field.name);
    else if (depth > 1) {
      const inner = selection(named, depth - 1);
      if (inner) parts.push(`${field.name} ${inner}`);
    }
  }
  return `{ ${parts.join(' ')} }`;
}

/**
 * An operation calling `field` with the given variables (declared with the field's argument types),
 * selecting to `depth` — or shallower when that selection would cost more than the gateway admits
 * (a self-nesting type such as a trace's spans and their children), so an attack meets the check it
 * is aimed at rather than the cost limit.
 */
export function operationFor(root: RootField, variables: Record<string, unknown>, depth = 3): string {
  const used = root.field.args.filter((a: GraphQLArgument) => a.name in variables);
  const decl = used.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
  const args = used.map((a) => `${a.name}: $${a.name}`).join(', ');
  const at = (d: number) =>
    `${root.operation} Attack${decl ? `(${decl})` : ''} { ${root.name}${args ? `(${args})` : ''} ${selection(getNamedType(root.field.type), d)} }`;
  for (let d = depth; d > 1; d--) {
    const document = parse(at(d));
    const operation = document.definitions[0] as OperationDefinitionNode;
    const { listSize, maxCost } = DEFAULT_OPERATION_LIMITS;
    if (measureCost(root.schema, document, operation, variables, listSize) <= maxCost) return at(d);
  }
  return at(1);
}
