import type { EntityManager } from '@mikro-orm/postgresql';
import {
  defaultFieldResolver,
  type GraphQLField,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
} from 'graphql';
import { recordAudit } from '../../audit/audit-log.ts';
import { AppError, ForbiddenError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';
import { assertHasRole, ROLE_DIRECTIVE, type Role } from '../roles.ts';
import { auditAttempt, entryOf, targetIdOf, targetTypeOf } from './attempt-audit.ts';
import type { GuardOptions } from './guard-options.ts';
import { assertNoNulCharacters } from './input-checks.ts';
import { LazyTransaction } from './lazy-transaction.ts';

/**
 * A root field's resolver behind its role declaration (none: denied to everyone, audited). A mutation
 * runs in one tenant transaction that ends by appending its audit record; a failed one is audited after.
 */
export function guardField(
  field: GraphQLField<unknown, RequestContext>,
  roles: Role[] | undefined,
  isMutation: boolean,
  options: GuardOptions,
): GraphQLFieldResolver<unknown, RequestContext> {
  const resolve = field.resolve ?? defaultFieldResolver;
  const action = `${options.subgraph}.${field.name}`;
  return async (source, args, ctx, info) => {
    try {
      if (!roles) {
        throw new ForbiddenError(
          `${info.parentType.name}.${field.name} declares no @${ROLE_DIRECTIVE} requirement, so it is denied to everyone`,
        );
      }
      assertHasRole(ctx.identity, roles, `${info.parentType.name}.${field.name}`);
    } catch (error) {
      await auditAttempt(ctx, action, info, args, 'denied', options);
      throw error;
    }
    if (isMutation) return runAudited(resolve, source, args, ctx, info, action, options);
    // A refused or failed query is recorded too (hostile-input ADR 0013), as a mutation's attempt is.
    try {
      assertNoNulCharacters(args, field.name);
      return await resolve(source, args, ctx, info);
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'INTERNAL_SERVER_ERROR';
      const outcome = error instanceof ForbiddenError ? 'denied' : 'failed';
      await auditAttempt(ctx, action, info, { ...args, _error: code }, outcome, options);
      throw error;
    }
  };
}

async function runAudited(
  resolve: GraphQLFieldResolver<unknown, RequestContext>,
  source: unknown,
  args: Record<string, unknown>,
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  action: string,
  options: GuardOptions,
): Promise<unknown> {
  const tx = new LazyTransaction(ctx);
  try {
    assertNoNulCharacters(args, info.fieldName);
    const result = await resolve(source, args, { ...ctx, db: tx.scope }, info);
    const target = { type: targetTypeOf(info), id: targetIdOf(result, args) };
    const record = (em: EntityManager) =>
      recordAudit(em, ctx.db.tenantId, entryOf(ctx, action, 'success', args, target));
    // With a transaction: the record ends it, so both commit or neither. Without (no data changed
    // in this database, e.g. an event-bus operation): the record gets its own transaction.
    if (tx.started) await tx.commit(record);
    else await ctx.db.run(record);
    return result;
  } catch (error) {
    await tx.rollback(error);
    const outcome = error instanceof ForbiddenError ? 'denied' : 'failed';
    const code = error instanceof AppError ? error.code : 'INTERNAL_SERVER_ERROR';
    await auditAttempt(ctx, action, info, { ...args, _error: code }, outcome, options);
    throw error;
  }
}
