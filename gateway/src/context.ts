import type { IncomingMessage } from 'node:http';
import { bearerToken } from '#kernel/auth/bearer.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import type { TokenVerifier } from '#kernel/auth/token-verifier.ts';
import { AppError } from '#kernel/errors.ts';
import { requestIdOf } from '#kernel/graphql/context.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';

/** What the gateway knows of a request: the verified caller and the header to forward. */
export interface GatewayContext {
  identity: Identity;
  authorization: string;
  requestId: string;
}

/** Verifies the caller's token before any query planning; refusals carry HTTP 401. */
export function createGatewayContext(verifier: TokenVerifier) {
  return async (req: IncomingMessage): Promise<GatewayContext> => {
    try {
      const token = bearerToken(req.headers.authorization);
      const identity = await verifier(token);
      return { identity, authorization: `Bearer ${token}`, requestId: requestIdOf(req.headers) };
    } catch (error) {
      throw error instanceof AppError ? toGraphQLError(error) : error;
    }
  };
}
