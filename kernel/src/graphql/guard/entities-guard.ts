import {
  defaultFieldResolver,
  type GraphQLField,
  type GraphQLFieldResolver,
  GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { ForbiddenError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';
import { assertHasRole, declaredRoles, ROLE_DIRECTIVE, type Role } from '../roles.ts';
import { auditAttempt } from './attempt-audit.ts';
import type { GuardOptions } from './guard-options.ts';

/** `_entities` behind the role declaration of each requested entity type (none: denied, audited). */
export function guardEntities(
  schema: GraphQLSchema,
  field: GraphQLField<unknown, RequestContext>,
  options: GuardOptions,
): GraphQLFieldResolver<unknown, RequestContext> {
  const resolve = field.resolve ?? defaultFieldResolver;
  return async (source, args, ctx, info) => {
    const representations = (args.representations ?? []) as { __typename?: unknown }[];
    const typeNames = new Set(representations.map((r) => String(r.__typename)));
    for (const name of typeNames) {
      const type = schema.getType(name);
      try {
        const roles = type instanceof GraphQLObjectType ? typeRoles(type) : undefined;
        if (!roles) {
          throw new ForbiddenError(
            `Entity ${name} declares no @${ROLE_DIRECTIVE} requirement, so it is denied`,
          );
        }
        assertHasRole(ctx.identity, roles, `Resolving ${name} entities`);
      } catch (error) {
        const action = `${options.subgraph}._entities`;
        await auditAttempt(ctx, action, info, { typename: name }, 'denied', options, null, name);
        throw error;
      }
    }
    return resolve(source, args, ctx, info);
  };
}

/** The roles an entity type (with its extensions) declares. */
export function typeRoles(type: GraphQLObjectType): Role[] | undefined {
  return declaredRoles([type.astNode, ...type.extensionASTNodes], type.name);
}

/** Whether a type is a federation entity (has `@key`). */
export function isEntity(type: GraphQLObjectType): boolean {
  return [type.astNode, ...type.extensionASTNodes].some((node) =>
    node?.directives?.some((d) => d.name.value === 'key'),
  );
}
