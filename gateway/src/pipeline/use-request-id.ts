import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';

/**
 * Every error the gateway sends, over HTTP or graphql-ws, carries the request id in
 * `extensions.requestId`: the id of the `x-request-id` response header (HTTP) or of the WebSocket's
 * upgrade request (graphql-ws), which the subgraphs' logs and audit records also carry. A user
 * reporting an error can quote it, and an operator can find the request.
 */
export function useRequestIdInErrors<TContext>(): OperationPlugin<TContext> {
  return {
    name: 'request-id-in-errors',
    onFormattedErrors(errors, { requestId }) {
      return errors.map((error) => ({ ...error, extensions: { ...error.extensions, requestId } }));
    },
  };
}
