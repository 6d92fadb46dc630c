import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { type DocumentNode, execute, type GraphQLSchema, parse } from 'graphql';
import type { LiveMessage, LiveTopic } from '../live/topics.ts';

/** The part of a gateway request context the `live` subgraph reads: the event being pushed. */
export interface LiveEventContext {
  liveMessage?: LiveMessage<LiveTopic>;
}

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

/**
 * The `live` subgraph, answered in the gateway's process: the query plan's primary fetch of a
 * subscription (its root field and the entity references) resolves against the event in the request
 * context. Nothing reaches it over the network; any other request (a query naming no event) is refused.
 */
export class LiveDataSource implements GraphQLDataSource<LiveEventContext> {
  readonly #schema: GraphQLSchema;
  readonly #documents = new Map<string, DocumentNode>();

  constructor(schema: GraphQLSchema) {
    this.#schema = schema;
  }

  async process(options: GraphQLDataSourceProcessOptions<LiveEventContext>): Promise<Response> {
    const message = 'context' in options ? options.context.liveMessage : undefined;
    const query = options.request.query;
    if (!message || !query) {
      return { errors: [{ message: 'Subscription fields are served over WebSocket only' }] } as Response;
    }
    let document = this.#documents.get(query);
    if (!document) {
      document = parse(query);
      // The planner's fetches per subscription document: a handful, reused for every event.
      if (this.#documents.size < 10_000) this.#documents.set(query, document);
    }
    const result = await execute({
      schema: this.#schema,
      document,
      rootValue: message,
      variableValues: options.request.variables ?? {},
      ...(options.request.operationName ? { operationName: options.request.operationName } : {}),
    });
    return result as Response;
  }
}
