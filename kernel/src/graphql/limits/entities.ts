import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { representationCount } from './cost.ts';
import { limitError } from './operation-limits.ts';

/**
 * The refusal of a request whose root `_entities` fields (aliases summed, through fragments) ask for
 * more than `maxEntities` representations, or `undefined`. Checked before any entity is resolved.
 */
export function checkEntities(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>>,
  maxEntities: number,
): GraphQLError | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const seen = new Set<string>();
  const count = (set: SelectionSetNode): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '_entities')
          total += representationCount(selection.arguments ?? [], variables);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += count(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) total += count(fragment.selectionSet);
      }
    }
    return total;
  };
  const found = count(operation.selectionSet);
  if (found <= maxEntities) return undefined;
  return limitError(
    'TOO_MANY_ENTITIES',
    'entities',
    found,
    maxEntities,
    'Resolve the entities in several smaller requests.',
  );
}
