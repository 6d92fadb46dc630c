import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { type DocumentNode, GraphQLError, Kind } from 'graphql';
import type { Logger } from '#kernel/logger.ts';
import { checkOperationLimits, type OperationLimits } from './operation-limits.ts';

/** Options of {@link useOperationLimits}. */
export interface OperationLimitsPluginOptions {
  limits: OperationLimits;
  logger: Logger;
}

/**
 * Refuses operations past the depth, alias or cost limit once they are parsed, validated and
 * resolved, before the gateway plans them (HTTP 400, a code per limit). The token limit is the
 * parser's own (`parseOptions.maxTokens`), reported by the gateway's formatError.
 */
export function useOperationLimits<TContext extends BaseContext>(
  options: OperationLimitsPluginOptions,
): ApolloServerPlugin<TContext> {
  const { limits } = options;
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`operation limits: ${name} must be a positive whole number`);
  }
  const logger = options.logger.child('limits');
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          // The gateway's executor fails with an internal error on an unresolved operation.
          if (!operation) throw unresolvedOperation(document, request.operationName);
          const refusal = checkOperationLimits(schema, document, operation, request.variables, limits);
          if (!refusal) return;
          logger.info('operation refused', {
            ...refusal.extensions,
            http: undefined,
            operationName: request.operationName,
          });
          throw refusal;
        },
      };
    },
  };
}

function unresolvedOperation(document: DocumentNode, operationName: string | undefined): GraphQLError {
  const count = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
  const message = operationName
    ? `The document has no operation named "${operationName}"`
    : count === 0
      ? 'The document holds no operation'
      : `The document holds ${count} operations; name the one to run with operationName`;
  return new GraphQLError(message, {
    extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
  });
}
