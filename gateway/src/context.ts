import type { IncomingMessage } from 'node:http';
import type { Identity } from '#kernel/auth/identity.ts';
import { AppError } from '#kernel/errors.ts';
import { requestIdOf } from '#kernel/graphql/context.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';
import type { OperationPipeline } from '#kernel/graphql/pipeline/pipeline.ts';

/** What the gateway knows of a request: the verified caller and the header to forward. */
export interface GatewayContext {
  identity: Identity;
  authorization: string;
  requestId: string;
}

/** The HTTP context: the pipeline authenticates the caller before any planning; refusals carry HTTP 401. */
export function createGatewayContext(pipeline: OperationPipeline<GatewayContext>) {
  return async (req: IncomingMessage): Promise<GatewayContext> => {
    try {
      return await pipeline.authenticate({
        authorization: req.headers.authorization,
        requestId: requestIdOf(req.headers),
      });
    } catch (error) {
      throw error instanceof AppError ? toGraphQLError(error) : error;
    }
  };
}
