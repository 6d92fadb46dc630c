// A dependency of @apollo/gateway and @apollo/composition at the same version (not declared in
// package.json yet): the one function that turns a document into the planner's operation.
import { operationFromDocument } from '@apollo/federation-internals';
import {
  type ApolloGateway,
  buildOperationContext,
  executeQueryPlan,
  type ServiceMap,
} from '@apollo/gateway';
import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import type { Logger } from '#kernel/logger.ts';
import type { GatewayContext } from '../context.ts';
import type { LiveMessage, LiveTopic } from '../live/topics.ts';

type QueryPlanner = NonNullable<ReturnType<ApolloGateway['__testing']>['queryPlanner']>;
type QueryPlan = ReturnType<QueryPlanner['buildQueryPlan']>;
type ApiSchema = ReturnType<QueryPlanner['supergraph']['apiSchema']>;

/** A subscription document planned once: its events run through it. */
export interface PlannedSubscription {
  readonly plan: QueryPlan;
  readonly document: DocumentNode;
  readonly operationName: string | undefined;
  /** Whether the selection reaches beyond the event itself (entity fields of other subgraphs). */
  readonly federated: boolean;
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
  // Built once per loaded supergraph: converting the planner's schemas is far too slow per event.
  const schemas = new WeakMap<QueryPlanner, { supergraph: GraphQLSchema; api: ApiSchema }>();
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
      return { plan, document, operationName, federated: node.rest !== undefined };
    },
    async execute(planned, message, context, variables) {
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
        context: { ...context, liveMessage: message },
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
        options.serviceMap,
        requestContext as unknown as Parameters<typeof executeQueryPlan>[2],
        operationContext,
        supergraph,
        api,
      );
      return result as ExecutionResult;
    },
  };
}
