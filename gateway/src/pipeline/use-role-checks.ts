import type { Identity } from '#kernel/auth/identity.ts';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';
import { assertHasRole, type Role } from '#kernel/graphql/roles.ts';
import { rootFieldNames } from './root-fields.ts';

/** Options of {@link useRoleChecks}. */
export interface RoleChecksOptions {
  /** Roles by `Type.field` of every root field the gateway resolves itself (`Subscription.*`). */
  roles: ReadonlyMap<string, readonly Role[]>;
}

/**
 * Checks `@requiresRole` of every root field the gateway resolves itself (FORBIDDEN naming the roles
 * needed and held), before anything runs. Operations the gateway forwards are checked, and their
 * refusals audited, by each subgraph (zero trust): the gateway holds no audit log and no copy of
 * their declarations, so it passes them on.
 */
export function useRoleChecks<TContext extends { identity: Identity }>(
  options: RoleChecksOptions,
): OperationPlugin<TContext> {
  if (!options.roles) throw new Error('useRoleChecks: roles are required');
  return {
    name: 'role-checks',
    onOperation({ schema, document, operation, context }) {
      const root = schema.getRootType(operation.operation)?.name;
      for (const field of rootFieldNames(document, operation)) {
        const required = options.roles.get(`${root}.${field}`);
        if (required) assertHasRole(context.identity, required, `${root}.${field}`);
      }
    },
  };
}
