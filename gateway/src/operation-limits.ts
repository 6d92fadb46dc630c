import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  Lexer,
  type OperationDefinitionNode,
  type SelectionSetNode,
  Source,
  TokenKind,
  type ValueNode,
  visit,
} from 'graphql';
import { DEFAULT_GATEWAY_LIMITS } from './config.ts';

/** Deepest field nesting allowed (fragments expanded). */
export const DEFAULT_MAX_DEPTH = DEFAULT_GATEWAY_LIMITS.maxDepth;
/** Most aliased fields one document may hold. */
export const DEFAULT_MAX_ALIASES = DEFAULT_GATEWAY_LIMITS.maxAliases;
/** Highest estimated cost (see {@link measureOperation}). */
export const DEFAULT_MAX_COST = DEFAULT_GATEWAY_LIMITS.maxCost;
/** Most lexical tokens one document may hold; the parser stops there. */
export const DEFAULT_MAX_TOKENS = DEFAULT_GATEWAY_LIMITS.maxTokens;
/** Items assumed for a list field, or a paginated field without `first`/`last`. */
export const DEFAULT_LIST_SIZE = 20;

/** Introspection lists that expand a type's members; below another one they count as lists again. */
const MEMBER_LISTS = new Set(['fields', 'inputFields', 'enumValues', 'interfaces', 'possibleTypes', 'args']);

/** Where a selection is: outside introspection, inside it, or inside it below a member list. */
type Introspection = 0 | 1 | 2;

/** The limits the gateway enforces on every operation before planning it. */
export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  maxTokens: number;
}

/** The defaults, which every query of the existing suites stays well inside. */
export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxDepth: DEFAULT_MAX_DEPTH,
  maxAliases: DEFAULT_MAX_ALIASES,
  maxCost: DEFAULT_MAX_COST,
  maxTokens: DEFAULT_MAX_TOKENS,
};

/** Stable codes of limit refusals, in `extensions.code`. */
export const LimitCode = {
  TooDeep: 'QUERY_TOO_DEEP',
  TooManyAliases: 'TOO_MANY_ALIASES',
  TooCostly: 'QUERY_TOO_COSTLY',
  TooLarge: 'QUERY_TOO_LARGE',
} as const;

/** One of the limit codes. */
export type LimitCode = (typeof LimitCode)[keyof typeof LimitCode];

/** Every limit code, for error formatting. */
export const LIMIT_CODES: ReadonlySet<string> = new Set(Object.values(LimitCode));

/** What an operation measures. */
export interface OperationMeasures {
  depth: number;
  aliases: number;
  cost: number;
}

/**
 * A refusal naming the limit, the value found and the maximum (HTTP 400). `extensions` carry
 * `limit`, `found` and `max` for programs.
 */
export function limitError(
  code: LimitCode,
  limit: string,
  found: number,
  max: number,
  hint: string,
): GraphQLError {
  const what: Record<LimitCode, string> = {
    QUERY_TOO_DEEP: `The query is nested ${found} levels deep`,
    TOO_MANY_ALIASES: `The query uses ${found} aliases`,
    QUERY_TOO_COSTLY: `The query's estimated cost is ${found}`,
    QUERY_TOO_LARGE: `The query has ${found} tokens`,
  };
  return new GraphQLError(`${what[code]}; the ${limit} limit is ${max}. ${hint}`, {
    extensions: { code, limit, found, max, http: { status: 400 } },
  });
}

/** The first limit the operation breaks, or `undefined` when it stays within all of them. */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  limits: OperationLimits,
): GraphQLError | undefined {
  const measures = measureOperation(schema, document, operation, variables ?? {});
  if (measures.depth > limits.maxDepth) {
    return limitError('QUERY_TOO_DEEP', 'depth', measures.depth, limits.maxDepth, 'Ask for less nesting.');
  }
  if (measures.aliases > limits.maxAliases) {
    return limitError(
      'TOO_MANY_ALIASES',
      'alias',
      measures.aliases,
      limits.maxAliases,
      'Use fewer aliases or send several requests.',
    );
  }
  if (measures.cost > limits.maxCost) {
    return limitError(
      'QUERY_TOO_COSTLY',
      'cost',
      measures.cost,
      limits.maxCost,
      `Each field costs 1, multiplied by the items of the lists around it (\`first\`, or ${DEFAULT_LIST_SIZE} when not given): ask for fewer items or fields.`,
    );
  }
  return undefined;
}

/** Counts the lexical tokens of a query, stopping once past `stopAfter`. */
export function countTokens(query: string, stopAfter = Number.POSITIVE_INFINITY): number {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      count += 1;
      if (count > stopAfter) break;
    }
  } catch {
    // A lexing error ends the count; the parser reports the syntax error itself.
  }
  return count;
}

/** The refusal of a document with more than `maxTokens` tokens. */
export function tooLargeError(found: number, maxTokens: number): GraphQLError {
  return limitError('QUERY_TOO_LARGE', 'token', found, maxTokens, 'Send a smaller query.');
}

/**
 * Depth, aliases and cost of one operation. Fragments are expanded (each measured once, so repeated
 * spreads cost no extra work) and a spread of a fragment already being expanded counts as empty,
 * so cycles terminate. Cost: every field 1, times the items of each enclosing list; a field with a
 * `first`/`last` argument multiplies its selection by that value (default {@link DEFAULT_LIST_SIZE})
 * and its connection's `edges`/`nodes` lists then count once; any other list field multiplies by
 * {@link DEFAULT_LIST_SIZE}. Introspection (`__schema`, `__type`) counts each field once, except that
 * a member list (`fields`, `args`, …) below another one counts as a list: the standard introspection
 * query stays cheap while `fields { type { fields { type … } } }` fan-outs are priced.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
): OperationMeasures {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const memo = new Map<string, { depth: number; cost: number }>();
  const expanding = new Set<string>();

  const walk = (
    selectionSet: SelectionSetNode,
    parentTypeName: string | undefined,
    inConnection: boolean,
    introspection: Introspection,
  ): { depth: number; cost: number } => {
    let depth = 0;
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
            if (inner === 2) multiplier = DEFAULT_LIST_SIZE;
            inner = 2;
          }
        } else if (field) {
          const page = field.args.some((a) => a.name === 'first' || a.name === 'last');
          if (page) {
            multiplier = pageSize(selection.arguments ?? [], field, variables);
            connection = true;
          } else if (isListType(getNullableType(field.type)) && !inConnection) {
            multiplier = DEFAULT_LIST_SIZE;
          }
        }
        const child = selection.selectionSet
          ? walk(selection.selectionSet, field ? getNamedType(field.type).name : undefined, connection, inner)
          : { depth: 0, cost: 0 };
        depth = Math.max(depth, 1 + child.depth);
        cost += 1 + multiplier * child.cost;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inner = walk(
          selection.selectionSet,
          selection.typeCondition?.name.value ?? parentTypeName,
          inConnection,
          introspection,
        );
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
      } else {
        const name = selection.name.value;
        const key = `${name}|${inConnection}|${introspection}`;
        let inner = memo.get(key);
        if (!inner) {
          const fragment = fragments.get(name);
          if (!fragment || expanding.has(name)) continue;
          expanding.add(name);
          inner = walk(fragment.selectionSet, fragment.typeCondition.name.value, inConnection, introspection);
          expanding.delete(name);
          memo.set(key, inner);
        }
        depth = Math.max(depth, inner.depth);
        cost += inner.cost;
      }
    }
    return { depth, cost };
  };

  const rootType = schema.getRootType(operation.operation)?.name;
  const { depth, cost } = walk(operation.selectionSet, rootType, false, 0);
  return { depth, cost, aliases: countAliases(document) };
}

function countAliases(document: DocumentNode): number {
  let aliases = 0;
  visit(document, {
    Field(node) {
      if (node.alias) aliases += 1;
    },
  });
  return aliases;
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
  args: readonly { name: { value: string }; value: ValueNode }[],
  field: GraphQLField<unknown, unknown>,
  variables: Readonly<Record<string, unknown>>,
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
  return typeof declared === 'number' ? Math.max(1, declared) : DEFAULT_LIST_SIZE;
}
