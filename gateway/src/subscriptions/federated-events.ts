// A dependency of @apollo/gateway and @apollo/composition at the same version (not declared in
// package.json yet): the one function that turns a document into the planner's operation.
import { operationFromDocument } from '@apollo/federation-internals';
import {
  type ApolloGateway,
  buildOperationContext,
  executeQueryPlan,
  type ServiceMap,
} from '@apollo/gateway';
import { type DocumentNode, type ExecutionResult, type GraphQLSchema, print } from 'graphql';
import type { Logger } from '#kernel/logger.ts';
import type { GatewayContext } from '../context.ts';
import type { LiveMessage, LiveTopic } from '../live/topics.ts';
import type { LiveEventContext } from './live-data-source.ts';
import { type StreamedFetchContext, StreamedFetchSource } from './streamed-fetch-source.ts';

type QueryPlanner = NonNullable<ReturnType<ApolloGateway['__testing']>['queryPlanner']>;
type QueryPlan = ReturnType<QueryPlanner['buildQueryPlan']>;
type ApiSchema = ReturnType<QueryPlanner['supergraph']['apiSchema']>;

/** A subscription document planned once: its events run through it. */
export interface PlannedSubscription {
  readonly plan: QueryPlan;
  /** Identifies the document, operation and variables: subscribers with the same one share results. */
  readonly key: string;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** Whether the selection reaches beyond the event itself (entity fields of other subgraphs). */
  readonly federated: boolean;
  /** The plan's primary fetch: the subgraph that declares the root field and what it is sent. */
  readonly source: {
    readonly service: string;
    readonly operation: string;
    readonly operationName: string | undefined;
    readonly variableUsages: readonly string[];
  };
}

/** One result of a subgraph's own subscription stream, as its primary fetch answered it. */
export interface StreamedResponse {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly unknown[];
}

/** Plans subscription documents and executes each event through its plan. */
export interface EventExecutor {
  plan(document: DocumentNode, operationName: string | undefined): PlannedSubscription;
  execute(
    planned: PlannedSubscription,
    message: LiveMessage<LiveTopic>,
    context: GatewayContext,
    variables: Readonly<Record<string, unknown>>,
  ): Promise<ExecutionResult>;
  /**
   * Runs the plan for one result of a subgraph-declared subscription (askStream): the primary fetch
   * is answered by `response`, the rest of the plan fetches as for a query, with the caller's token.
   */
  executeStreamed(
    planned: PlannedSubscription,
    response: StreamedResponse,
    context: GatewayContext,
    variables: Readonly<Record<string, unknown>>,
  ): Promise<ExecutionResult>;
}

/**
 * Executes a subscription's selection for one event the way Apollo Router and Hive Gateway do: the
 * gateway's own query planner plans the subscription (a primary fetch of the root field from the
 * `live` subgraph, then entity fetches from the subgraphs that own the rest); each event runs that plan
 * as a query would, through the same data sources, with the subscriber's own token and request id, so
 * every subgraph applies its roles and row-level security to the subscriber. @apollo/gateway plans
 * subscriptions but refuses to execute them; the plan's two parts are run in sequence instead.
 */
export function createEventExecutor(options: {
  gateway: ApolloGateway;
  apiSchema: () => GraphQLSchema;
  serviceMap: ServiceMap;
  logger: Logger;
}): EventExecutor {
  // Results by event: the message object is shared (frozen) by every subscriber of a process.
  const shared = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();
  // Built once per loaded supergraph: converting the planner's schemas is far too slow per event.
  const schemas = new WeakMap<QueryPlanner, { supergraph: GraphQLSchema; api: ApiSchema }>();
  const wrappers = new WeakMap<object, StreamedFetchSource>();
  const planner = () => {
    const found = options.gateway.__testing().queryPlanner;
    if (!found) throw new Error('the gateway has not loaded its supergraph yet');
    if (!schemas.has(found)) {
      schemas.set(found, {
        supergraph: found.supergraph.schema.toGraphQLJSSchema(),
        api: found.supergraph.apiSchema(),
      });
    }
    return { queryPlanner: found, ...(schemas.get(found) as { supergraph: GraphQLSchema; api: ApiSchema }) };
  };
  return {
    plan(document, operationName) {
      const { queryPlanner, api } = planner();
      const operation = operationFromDocument(api, document, {
        ...(operationName ? { operationName } : {}),
      });
      const built = queryPlanner.buildQueryPlan(operation);
      const node = built.node;
      if (node?.kind !== 'Subscription') throw new Error('not a subscription operation');
      const plan: QueryPlan = {
        kind: 'QueryPlan',
        node: node.rest ? { kind: 'Sequence', nodes: [node.primary, node.rest] } : node.primary,
      };
      const key = `${print(document)}\0${operationName ?? ''}`;
      const source = {
        service: node.primary.serviceName,
        operation: node.primary.operation,
        operationName: node.primary.operationName,
        variableUsages: node.primary.variableUsages ?? [],
      };
      return { plan, key, document, operationName, federated: node.rest !== undefined, source };
    },
    execute(planned, message, context, variables) {
      // One execution per event for every subscriber with the same operation and variables, and,
      // when the selection reaches other subgraphs, the same token (their answer is the caller's).
      const key = `${planned.key}\0${JSON.stringify(variables)}\0${planned.federated ? context.authorization : ''}`;
      let results = shared.get(message);
      if (!results) {
        results = new Map();
        shared.set(message, results);
      }
      let result = results.get(key);
      if (!result) {
        result = run(planned, { liveMessage: message }, context, variables, options.serviceMap);
        results.set(key, result);
      }
      return result;
    },
    executeStreamed(planned, response, context, variables) {
      const streamedFetch = { operation: planned.source.operation, response };
      return run(planned, { streamedFetch }, context, variables, streamedSources());
    },
  };

  /** The data sources with the primary fetch of a streamed subscription answered from its result. */
  function streamedSources(): ServiceMap {
    const map: ServiceMap = {};
    for (const [name, source] of Object.entries(options.serviceMap)) {
      let wrapped = wrappers.get(source);
      if (!wrapped) {
        wrapped = new StreamedFetchSource(source);
        wrappers.set(source, wrapped);
      }
      map[name] = wrapped;
    }
    return map;
  }

  async function run(
    planned: PlannedSubscription,
    event: LiveEventContext | StreamedFetchContext,
    context: GatewayContext,
    variables: Readonly<Record<string, unknown>>,
    serviceMap: ServiceMap,
  ): Promise<ExecutionResult> {
    const { supergraph, api } = planner();
    const schema = options.apiSchema();
    const operationContext = buildOperationContext({
      schema,
      operationDocument: planned.document,
      ...(planned.operationName ? { operationName: planned.operationName } : {}),
    });
    const requestContext = {
      request: {
        variables: { ...variables },
        ...(planned.operationName ? { operationName: planned.operationName } : {}),
      },
      context: { ...context, ...event },
      logger: options.logger,
      metrics: {},
      document: planned.document,
      operation: operationContext.operation,
      operationName: planned.operationName ?? null,
      schema,
      cache: undefined,
      overallCachePolicy: undefined,
    };
    const result = await executeQueryPlan(
      planned.plan,
      serviceMap,
      requestContext as unknown as Parameters<typeof executeQueryPlan>[2],
      operationContext,
      supergraph,
      api,
    );
    return result as ExecutionResult;
  }
}
