import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { trace } from '@opentelemetry/api';
import { bearerToken } from '../auth/bearer.ts';
import type { Identity } from '../auth/identity.ts';
import type { TokenVerifier } from '../auth/token-verifier.ts';
import { type TenantScope, tenantScope } from '../db/tenant-context.ts';
import type { TenantDirectory } from '../db/tenant-directory.ts';
import { AppError } from '../errors.ts';
import { ATTR_TENANT_ID, ATTR_USER_ID } from '../telemetry/attributes.ts';
import { toGraphQLError } from './errors.ts';

/** What every subgraph resolver receives: a verified identity and its tenant-bound database scope. */
export interface RequestContext {
  identity: Identity;
  db: TenantScope;
  requestId: string;
  /** Whether the caller's tenant operates the platform (OPERATOR_TENANT_IDS). */
  operator: boolean;
  /**
   * The caller's own `Authorization` header, for a resolver that asks another subgraph a question
   * on the caller's behalf (zero trust: that subgraph verifies it again). Absent in-process.
   */
  authorization?: string;
}

/** Options of {@link createContextFactory}. */
export interface ContextFactoryOptions {
  verifier: TokenVerifier;
  tenants: TenantDirectory;
  orm: MikroORM;
  operatorTenantIds?: readonly string[];
}

/** The context of one request by a verified identity: its tenant scope and its platform access. */
export function requestContext(
  identity: Identity,
  options: Pick<ContextFactoryOptions, 'orm' | 'operatorTenantIds'>,
  requestId: string,
  authorization?: string,
): RequestContext {
  return {
    ...(authorization ? { authorization } : {}),
    identity,
    db: tenantScope(options.orm, identity.tenantId),
    requestId,
    operator: options.operatorTenantIds?.includes(identity.tenantId) ?? false,
  };
}

/** Reads the request id a caller or the gateway sent, or makes one. */
export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && /^[\w-]{8,64}$/.test(given) ? given : randomUUID();
}

/** Verifies the caller and builds the request context; failures become GraphQL errors with HTTP status. */
export function createContextFactory(options: ContextFactoryOptions) {
  return async (headers: IncomingHttpHeaders): Promise<RequestContext> => {
    try {
      const identity = await options.verifier(bearerToken(headers.authorization));
      await options.tenants.ensureRegistered(identity);
      // The request's spans (and the trace store's tenant) belong to the verified tenant.
      trace
        .getActiveSpan()
        ?.setAttributes({ [ATTR_TENANT_ID]: identity.tenantId, [ATTR_USER_ID]: identity.subjectId });
      return requestContext(identity, options, requestIdOf(headers), headers.authorization);
    } catch (error) {
      throw error instanceof AppError ? toGraphQLError(error) : error;
    }
  };
}
