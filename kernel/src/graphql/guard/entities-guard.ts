import {
  defaultFieldResolver,
  type GraphQLField,
  type GraphQLFieldResolver,
  GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { AppError, ForbiddenError } from '../../errors.ts';
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
    // A representation that fails (a malformed id) is recorded, once per request (ADR 0013).
    const items: unknown[] = await Promise.resolve()
      .then(() => resolve(source, args, ctx, info) as unknown[])
      .catch((error: unknown) => [Promise.reject(error)]);
    const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled(items);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const code = failed.reason instanceof AppError ? failed.reason.code : 'INTERNAL_SERVER_ERROR';
      const input = { representations: args.representations, _error: code };
      await auditAttempt(
        ctx,
        `${options.subgraph}._entities`,
        info,
        input,
        'failed',
        options,
        null,
        '_Entity',
      );
    }
    return settled.map((r) =>
      r.status === 'fulfilled' ? r.value : r.reason instanceof Error ? r.reason : new Error(String(r.reason)),
    );
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
