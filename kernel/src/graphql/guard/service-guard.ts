import { defaultFieldResolver, type GraphQLField, type GraphQLFieldResolver } from 'graphql';
import type { Identity } from '../../auth/identity.ts';
import { ForbiddenError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';
import { auditAttempt } from './attempt-audit.ts';
import type { GuardOptions } from './guard-options.ts';

/**
 * Whether the caller is one of the platform's own service identities: an app-only token (`kind:
 * service`, see the token verifier) of one of the platform's app registrations (`azp`).
 */
export function isPlatformService(identity: Identity, serviceClientIds: readonly string[]): boolean {
  if (identity.kind !== 'service' || !identity.clientId) return false;
  const clientId = identity.clientId.toLowerCase();
  return serviceClientIds.some((id) => id.toLowerCase() === clientId);
}

/**
 * `_service { sdl }` only for the platform's own services: the SDL names every field, including those
 * introspection (off in production) would hide. Anyone else gets FORBIDDEN, audited.
 */
export function guardService(
  field: GraphQLField<unknown, RequestContext>,
  options: GuardOptions,
): GraphQLFieldResolver<unknown, RequestContext> {
  const resolve = field.resolve ?? defaultFieldResolver;
  const allowed = options.serviceClientIds ?? [];
  return async (source, args, ctx, info) => {
    if (!isPlatformService(ctx.identity, allowed)) {
      await auditAttempt(
        ctx,
        `${options.subgraph}._service`,
        info,
        args,
        'denied',
        options,
        null,
        '_Service',
      );
      throw new ForbiddenError(
        "Query._service serves the subgraph's SDL to the platform's own service identities only",
      );
    }
    return resolve(source, args, ctx, info);
  };
}
