import type { GraphQLField, GraphQLFieldResolver } from 'graphql';
import { AppError, ForbiddenError, ValidationError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';
import { assertHasRole, ROLE_DIRECTIVE, type Role } from '../roles.ts';
import { auditAttempt } from './attempt-audit.ts';
import type { GuardOptions } from './guard-options.ts';
import { assertNoNulCharacters } from './input-checks.ts';

/**
 * A Subscription field behind its role declaration, as a query field is (guardField): its
 * `subscribe` checks the caller's roles (a denial or a failed start is audited) before any event
 * source opens. Its `resolve` refuses to run without an event: a subscription sent to `/graphql` as
 * a plain request is told where subscriptions are served.
 */
export function guardSubscriptionField(
  field: GraphQLField<unknown, RequestContext>,
  roles: Role[] | undefined,
  options: GuardOptions & { streamPath: string },
): void {
  const subscribe = field.subscribe;
  const resolve = field.resolve;
  const action = `${options.subgraph}.${field.name}`;
  const where = `Subscription.${field.name}`;
  field.subscribe = (async (source, args, ctx, info) => {
    try {
      if (!roles) {
        throw new ForbiddenError(
          `${where} declares no @${ROLE_DIRECTIVE} requirement, so it is denied to everyone`,
        );
      }
      assertHasRole(ctx.identity, roles, where);
    } catch (error) {
      await auditAttempt(ctx, action, info, args, 'denied', options);
      throw error;
    }
    try {
      assertNoNulCharacters(args, field.name);
      if (!subscribe) throw new Error(`${where} has no subscribe resolver`);
      return await subscribe(source, args, ctx, info);
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'INTERNAL_SERVER_ERROR';
      await auditAttempt(ctx, action, info, { ...args, _error: code }, 'failed', options);
      throw error;
    }
  }) as GraphQLFieldResolver<unknown, RequestContext>;
  field.resolve = (event, args, ctx, info) => {
    if (event === undefined) {
      throw new ValidationError(
        `${where} is a subscription: subscribe through the gateway's WebSocket endpoint (or POST ${options.streamPath} with Accept: text/event-stream)`,
      );
    }
    return resolve ? resolve(event, args, ctx, info) : event;
  };
}
