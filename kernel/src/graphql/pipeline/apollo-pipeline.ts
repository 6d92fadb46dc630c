import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLError } from 'graphql';
import type { ResolvedOperation } from './operation-plugin.ts';
import { type OperationPipeline, unresolvedOperation } from './pipeline.ts';

/** What an Apollo Server needs to run a pipeline: its parser options and one plugin. */
export interface ApolloPipeline<TContext extends BaseContext> {
  parseOptions: { maxTokens?: number };
  plugin: ApolloServerPlugin<TContext>;
}

/**
 * Runs a pipeline inside Apollo Server's request life cycle: Apollo parses (with the pipeline's token
 * limit) and validates; the plugin then runs `onOperation` in `didResolveOperation` (before the gateway
 * plans anything), `onExecute` around execution, `onResolveField` before each field of the service's
 * own resolvers, and `onErrors` on every error it reports.
 */
export function apolloPipeline<TContext extends BaseContext>(
  pipeline: OperationPipeline<TContext>,
): ApolloPipeline<TContext> {
  return {
    parseOptions: pipeline.maxTokens === undefined ? {} : { maxTokens: pipeline.maxTokens },
    plugin: {
      async requestDidStart() {
        let resolved: ResolvedOperation<TContext> | undefined;
        return {
          async didResolveOperation({ schema, document, operation, request, contextValue }) {
            // The gateway's executor fails with an internal error on an unresolved operation.
            if (!operation) throw unresolvedOperation(document, request.operationName);
            resolved = {
              schema,
              document,
              operation,
              variables: request.variables ?? {},
              context: contextValue,
              transport: 'http',
            };
            await pipeline.resolved(resolved);
          },
          async executionDidStart() {
            if (!resolved) return;
            const operation = resolved;
            const end = pipeline.executing(operation);
            return {
              ...(pipeline.watchesFields
                ? { willResolveField: () => pipeline.resolvingField(operation) }
                : {}),
              async executionDidEnd(error) {
                end(error ? [error as GraphQLError] : undefined);
              },
            };
          },
          async didEncounterErrors({ errors }) {
            pipeline.errors(errors);
          },
        };
      },
    },
  };
}
