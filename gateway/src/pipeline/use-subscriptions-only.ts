import { GraphQLError } from 'graphql';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';

/** Refuses queries and mutations sent over WebSocket: they belong to HTTP POST at `path`. */
export function useSubscriptionsOnlyOverWebSocket<TContext>(path: string): OperationPlugin<TContext> {
  return {
    name: 'subscriptions-only-over-websocket',
    onOperation({ operation, transport }) {
      if (transport !== 'websocket' || operation.operation === 'subscription') return;
      throw new GraphQLError(
        `The WebSocket endpoint serves subscriptions only; send ${operation.operation} operations over HTTP POST to ${path}`,
        { extensions: { code: 'BAD_REQUEST' } },
      );
    },
  };
}
