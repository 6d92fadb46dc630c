import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { StreamedResponse } from './federated-events.ts';

/** The part of a gateway request context that carries one result of a subgraph's subscription stream. */
export interface StreamedFetchContext {
  streamedFetch?: { readonly operation: string; readonly response: StreamedResponse };
}

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

/**
 * A subgraph's data source, except for the primary fetch of a subscription it streams (askStream):
 * that fetch (the exact operation the plan sent to open the stream) is answered by the stream's
 * current result, so the rest of the plan (entity fields of other subgraphs) runs as for a query.
 */
export class StreamedFetchSource implements GraphQLDataSource<StreamedFetchContext> {
  readonly #inner: GraphQLDataSource;

  constructor(inner: GraphQLDataSource) {
    this.#inner = inner;
  }

  process(options: GraphQLDataSourceProcessOptions<StreamedFetchContext>): Promise<Response> {
    const streamed = 'context' in options ? options.context.streamedFetch : undefined;
    if (streamed && options.request.query === streamed.operation) {
      return Promise.resolve(streamed.response as Response);
    }
    return this.#inner.process(options as GraphQLDataSourceProcessOptions);
  }
}
