import { GraphQLError } from 'graphql';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';

/**
 * Each transport serves its own operations: queries and mutations over HTTP at `path`, subscriptions
 * over WebSocket (graphql-ws) at the same path. Either mismatch is the client's mistake, answered with
 * BAD_REQUEST naming where to send it (HTTP 400; the gateway's executor would otherwise fail with 500).
 */
export function useSubscriptionsOnlyOverWebSocket<TContext>(path: string): OperationPlugin<TContext> {
  return {
    name: 'subscriptions-only-over-websocket',
    onOperation({ operation, transport }) {
      if (transport === 'http' && operation.operation === 'subscription') {
        throw new GraphQLError(
          `Subscriptions are served over WebSocket only (graphql-ws, subprotocol graphql-transport-ws) at ${path}; send queries and mutations over HTTP`,
          { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
        );
      }
      if (transport !== 'websocket' || operation.operation === 'subscription') return;
      throw new GraphQLError(
        `The WebSocket endpoint serves subscriptions only; send ${operation.operation} operations over HTTP POST to ${path}`,
        { extensions: { code: 'BAD_REQUEST' } },
      );
    },
  };
}
