import {
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { limitError } from './operation-limits.ts';

/** Introspection lists that expand a type's members; below another one they count as lists again. */
const MEMBER_LISTS = new Set(['fields', 'inputFields', 'enumValues', 'interfaces', 'possibleTypes', 'args']);

/** Federation's entity root field: its representations are the items of its list. */
const ENTITIES_FIELD = '_entities';

/** Where a selection is: outside introspection, inside it, or inside it below a member list. */
type Introspection = 0 | 1 | 2;

/**
 * The estimated cost of one operation, the rule graphql-armor lacks (it cannot multiply by `first`).
 * Every field costs 1, times the items of each enclosing list: a field with a `first`/`last` argument
 * multiplies its selection by that value (its declared default, else `listSize`) and its connection's
 * `edges`/`nodes` lists then count once; `_entities` multiplies by its number of representations; any
 * other list field multiplies by `listSize`, so recursive entity fields (`task { approvals { task {
 * approvals … } } }`) compound. Fragments are measured once per context and memoised, and a spread of a
 * fragment already being expanded counts as empty, so the walk is linear and terminates on cycles.
 * Introspection counts each field once, except that a member list (`fields`, `args`, …) below another
 * one counts as a list: the standard introspection query stays cheap while fan-outs are priced.
 */
export function measureCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  listSize: number,
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const memo = new Map<string, number>();
  const expanding = new Set<string>();

  const walk = (
    selectionSet: SelectionSetNode,
    parentTypeName: string | undefined,
    inConnection: boolean,
    introspection: Introspection,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const field = fieldOf(schema, parentTypeName, name);
        let inner: Introspection = introspection === 0 && name.startsWith('__') ? 1 : introspection;
        let multiplier = 1;
        let connection = false;
        if (inner > 0) {
          if (MEMBER_LISTS.has(name)) {
            if (inner === 2) multiplier = listSize;
            inner = 2;
          }
        } else if (name === ENTITIES_FIELD) {
          multiplier = Math.max(1, representationCount(selection.arguments ?? [], variables));
        } else if (field) {
          const page = field.args.some((a) => a.name === 'first' || a.name === 'last');
          if (page) {
            multiplier = pageSize(selection.arguments ?? [], field, variables, listSize);
            connection = true;
          } else if (isListType(getNullableType(field.type)) && !inConnection) {
            multiplier = listSize;
          }
        }
        const child = selection.selectionSet
          ? walk(selection.selectionSet, field ? getNamedType(field.type).name : undefined, connection, inner)
          : 0;
        cost += 1 + multiplier * child;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value ?? parentTypeName;
        cost += walk(selection.selectionSet, typeName, inConnection, introspection);
      } else {
        const name = selection.name.value;
        const key = `${name}|${inConnection}|${introspection}`;
        let inner = memo.get(key);
        if (inner === undefined) {
          const fragment = fragments.get(name);
          if (!fragment || expanding.has(name)) continue;
          expanding.add(name);
          inner = walk(fragment.selectionSet, fragment.typeCondition.name.value, inConnection, introspection);
          expanding.delete(name);
          memo.set(key, inner);
        }
        cost += inner;
      }
    }
    return cost;
  };

  return walk(operation.selectionSet, schema.getRootType(operation.operation)?.name, false, 0);
}

/** The refusal of an operation costing more than `maxCost`, or `undefined`. */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  limits: { maxCost: number; listSize: number },
): GraphQLError | undefined {
  const cost = measureCost(schema, document, operation, variables, limits.listSize);
  if (cost <= limits.maxCost) return undefined;
  return limitError(
    'QUERY_TOO_COSTLY',
    'cost',
    cost,
    limits.maxCost,
    `Each field costs 1, multiplied by the items of the lists around it (\`first\`, or ${limits.listSize} when not given): ask for fewer items or fields.`,
  );
}

/** Number of representations an `_entities` field's arguments hold (a literal list or a variable). */
export function representationCount(
  args: readonly ArgumentNode[],
  variables: Readonly<Record<string, unknown>>,
): number {
  const value = args.find((a) => a.name.value === 'representations')?.value;
  if (!value) return 0;
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = variables[value.name.value];
    return Array.isArray(given) ? given.length : given === undefined || given === null ? 0 : 1;
  }
  return 1;
}

function fieldOf(
  schema: GraphQLSchema,
  typeName: string | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  const type = typeName ? schema.getType(typeName) : undefined;
  if (!type || !isCompositeType(type) || !('getFields' in type)) return undefined;
  return type.getFields()[name];
}

function pageSize(
  args: readonly ArgumentNode[],
  field: GraphQLField<unknown, unknown>,
  variables: Readonly<Record<string, unknown>>,
  listSize: number,
): number {
  for (const name of ['first', 'last']) {
    const arg = args.find((a) => a.name.value === name);
    if (!arg) continue;
    const value =
      arg.value.kind === Kind.INT
        ? Number(arg.value.value)
        : arg.value.kind === Kind.VARIABLE
          ? variables[arg.value.name.value]
          : undefined;
    if (typeof value === 'number' && Number.isFinite(value)) return Math.max(1, Math.ceil(value));
  }
  const declared = field.args.find((a) => a.name === 'first')?.defaultValue;
  return typeof declared === 'number' ? Math.max(1, declared) : listSize;
}
