import { bearerToken } from '#kernel/auth/bearer.ts';
import type { TokenVerifier } from '#kernel/auth/token-verifier.ts';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';
import type { GatewayContext } from '../context.ts';

/** Options of {@link useAuthentication}. */
export interface AuthenticationOptions {
  verifier: TokenVerifier;
}

/**
 * Verifies the caller's bearer token (HTTP `Authorization` header, or `connection_init`'s
 * `authorization` over WebSocket) and builds the gateway context: who calls and what to forward.
 * Refusals are AppErrors (401 UNAUTHENTICATED); each transport turns them into its own answer.
 */
export function useAuthentication(options: AuthenticationOptions): OperationPlugin<GatewayContext> {
  if (typeof options.verifier !== 'function') throw new Error('useAuthentication: verifier is required');
  return {
    name: 'authentication',
    async authenticate({ authorization, requestId }) {
      const token = bearerToken(authorization);
      const identity = await options.verifier(token);
      return { identity, authorization: `Bearer ${token}`, requestId };
    },
  };
}
