import type { ConstDirectiveNode } from 'graphql';
import type { Identity } from '../auth/identity.ts';
import { ForbiddenError } from '../errors.ts';

/** The Entra ID app roles WidgeTDC knows, by their `value` in the app registration. */
export const ROLES = ['Reader', 'Contributor', 'Approver', 'Admin', 'Auditor'] as const;

/** One app role. */
export type Role = (typeof ROLES)[number];

/** The SDL directive every root field and entity type uses to declare who may use it. */
export const ROLE_DIRECTIVE = 'requiresRole';

type WithDirectives = { readonly directives?: readonly ConstDirectiveNode[] } | null | undefined;

/**
 * The roles declared with `@requiresRole(anyOf: […])` on the given nodes (a field, or a type and its
 * extensions), or `undefined` when none declares any. Unknown role names are a start-up error.
 */
export function declaredRoles(nodes: readonly WithDirectives[], where: string): Role[] | undefined {
  let found: Role[] | undefined;
  for (const node of nodes) {
    for (const directive of node?.directives ?? []) {
      if (directive.name.value !== ROLE_DIRECTIVE) continue;
      const arg = directive.arguments?.find((a) => a.name.value === 'anyOf');
      const values = arg?.value.kind === 'ListValue' ? arg.value.values : arg ? [arg.value] : [];
      const roles = values.map((v) => (v.kind === 'StringValue' ? v.value : ''));
      for (const role of roles) {
        if (!(ROLES as readonly string[]).includes(role)) {
          throw new Error(
            `${where}: @${ROLE_DIRECTIVE} names unknown role "${role}" (known: ${ROLES.join(', ')})`,
          );
        }
      }
      if (roles.length === 0) throw new Error(`${where}: @${ROLE_DIRECTIVE} needs at least one role`);
      found = [...(found ?? []), ...(roles as Role[])];
    }
  }
  return found;
}

/** Throws FORBIDDEN naming the missing role unless the identity holds one of `required`. */
export function assertHasRole(identity: Identity, required: readonly Role[], what: string): void {
  if (required.some((role) => identity.roles.includes(role))) return;
  const held = identity.roles.length > 0 ? identity.roles.join(', ') : 'no app roles';
  const needed =
    required.length === 1 ? `the role ${required[0]}` : `one of the roles ${required.join(', ')}`;
  throw new ForbiddenError(`${what} requires ${needed}; the caller has ${held}`, {
    requiredRoles: [...required],
  });
}
