import {
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  getArgumentValues,
  getOperationAST,
  Kind,
  type SelectionSetNode,
} from 'graphql';
import { AppError, UnavailableError } from '#kernel/errors.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';
import type { GatewayContext } from '../context.ts';
import type { LivePubSub, LiveSubscription } from '../live/live-pubsub.ts';
import type { LiveMessage, LiveTopic } from '../live/topics.ts';
import type { EventExecutor } from './federated-events.ts';
import { FIELD_FILTERS, FIELD_TOPICS, type SubscriptionField } from './subscription-schema.ts';

/** What a subscription's execution receives: the connection's verified caller and what serves it. */
export interface SubscriptionContext extends GatewayContext {
  live: LivePubSub;
  events: EventExecutor;
}

/**
 * graphql-ws's `subscribe`: follows the tenant's topic of the operation's root field (the channel
 * from the verified tenant only; an argument such as `taskId` merely filters within it) and turns
 * each event into a result through the subscription's federated plan.
 */
export async function subscribeToEvents(
  args: ExecutionArgs,
): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const context = args.contextValue as SubscriptionContext;
  const operation = getOperationAST(args.document, args.operationName);
  const root = operation && rootField(operation.selectionSet, args);
  const rootType = args.schema.getSubscriptionType();
  const definition = root && rootType?.getFields()[root.name.value];
  if (!root || !definition)
    return { errors: [new GraphQLError('The operation selects no subscription field')] };
  const field = root.name.value as SubscriptionField;
  const variables = args.variableValues ?? {};
  const filterKey = FIELD_FILTERS[field];
  const argumentValues = getArgumentValues(definition, root, variables);
  const wanted = filterKey ? argumentValues[filterKey] : undefined;
  let subscription: LiveSubscription<LiveTopic>;
  let planned: ReturnType<EventExecutor['plan']>;
  try {
    planned = context.events.plan(args.document, args.operationName ?? undefined);
    subscription = context.live.subscribe(context.identity.tenantId, FIELD_TOPICS[field]);
    try {
      await subscription.ready;
    } catch {
      throw new UnavailableError('Live updates are unavailable right now; subscribe again shortly');
    }
  } catch (error) {
    if (error instanceof AppError) return { errors: [toGraphQLError(error)] };
    throw error;
  }
  const keep = (message: LiveMessage<LiveTopic>) =>
    typeof wanted !== 'string' || (message as Record<string, unknown>)[filterKey as string] === wanted;
  return mapped(subscription, keep, (message) =>
    context.events.execute(planned, message, context, variables),
  );
}

/**
 * The subscription's messages that pass `keep`, each mapped to its result. Not an async generator: a
 * generator suspended in `await next()` would only see `return()` after the next message, leaving the
 * channel subscribed; here `return()` unsubscribes at once and ends a pending `next()`.
 */
function mapped(
  subscription: LiveSubscription<LiveTopic>,
  keep: (message: LiveMessage<LiveTopic>) => boolean,
  map: (message: LiveMessage<LiveTopic>) => Promise<ExecutionResult>,
): AsyncGenerator<ExecutionResult> {
  const iterator: AsyncGenerator<ExecutionResult> = {
    async next() {
      for (;;) {
        const step = await subscription.next();
        if (step.done) return { value: undefined, done: true };
        if (keep(step.value)) return { value: await map(step.value), done: false };
      }
    },
    async return() {
      await subscription.return();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await subscription.return();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async [Symbol.asyncDispose]() {
      await subscription.return();
    },
  };
  return iterator;
}

/** The operation's one root field (through fragments); graphql validation has ensured there is one. */
function rootField(set: SelectionSetNode, args: ExecutionArgs): FieldNode | undefined {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') return selection;
      continue;
    }
    const inner =
      selection.kind === Kind.INLINE_FRAGMENT
        ? selection.selectionSet
        : args.document.definitions.find(
            (d): d is FragmentDefinitionNode =>
              d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
          )?.selectionSet;
    const found = inner && rootField(inner, args);
    if (found) return found;
  }
  return undefined;
}
