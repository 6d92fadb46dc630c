import { createHash } from 'node:crypto';
import {
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  getArgumentValues,
  getOperationAST,
  Kind,
  print,
  type SelectionSetNode,
} from 'graphql';
import { AppError, UnavailableError } from '#kernel/errors.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';
import { LIVE_SUBGRAPH } from '../compose.ts';
import type { GatewayContext } from '../context.ts';
import type { LivePubSub, LiveSubscription } from '../live/live-pubsub.ts';
import { mergeSubscriptions } from '../live/merged-subscription.ts';
import { type LiveMessage, type LiveTopic, PLATFORM_CHANNEL } from '../live/topics.ts';
import type { EventExecutor } from './federated-events.ts';
import type { SubgraphStreams } from './subgraph-stream.ts';
import { FIELD_FILTERS, FIELD_TOPICS, type SubscriptionField } from './subscription-schema.ts';

/** What a subscription's execution receives: the connection's verified caller and what serves it. */
export interface SubscriptionContext extends GatewayContext {
  live: LivePubSub;
  events: EventExecutor;
  /** Opens the streams of subscription fields other subgraphs declare (askStream). */
  streams: SubgraphStreams;
  /** Whether the subscription's WebSocket is still open (false once the connection is gone). */
  connectionOpen(): boolean;
}

/**
 * How far before a connection's close a resumed subscription replays (events already queued but
 * not yet sent when it closed); those it had delivered are left out by id.
 */
export const RESUME_OVERLAP_MS = 2_000;
/** Event ids a subscription remembers having delivered, for leaving them out of a replay. */
const DELIVERED_KEPT = 100;

/**
 * graphql-ws's `subscribe`: follows the tenant's topic of the operation's root field (the channel
 * from the verified tenant only; an argument such as `taskId` merely filters within it) and turns
 * each event into a result through the subscription's federated plan. A root field declared by
 * another subgraph than `live` (askStream) is relayed from that subgraph's stream (ADR 0031).
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
  const variables = args.variableValues ?? {};
  let planned: ReturnType<EventExecutor['plan']>;
  try {
    planned = context.events.plan(args.document, args.operationName ?? undefined);
  } catch (error) {
    if (error instanceof AppError) return { errors: [toGraphQLError(error)] };
    throw error;
  }
  // A field another subgraph declares is a stream of that subgraph, tied to this one operation.
  if (planned.source.service !== LIVE_SUBGRAPH.name) return context.streams.open(planned, context, variables);
  const field = root.name.value as SubscriptionField;
  const filterKey = FIELD_FILTERS[field];
  const argumentValues = getArgumentValues(definition, root, variables);
  const wanted = filterKey ? argumentValues[filterKey] : undefined;
  let subscription: LiveSubscription<LiveTopic>;
  try {
    subscription = followChannels(context.live, context.identity.tenantId, field);
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
  // The same caller subscribing to the same operation again within the replay window (graphql-ws
  // retries after a close, e.g. at token expiry) first receives what it missed in between.
  const resumeKey = [
    context.identity.tenantId,
    context.identity.subjectId,
    createHash('sha256')
      .update(print(args.document))
      .update(`\0${args.operationName ?? ''}\0${JSON.stringify(variables)}`)
      .digest('hex'),
  ].join(':');
  const mark = await context.live.recall(resumeKey).catch(() => undefined);
  const backlog = mark
    ? (
        await missed(context.live, context.identity.tenantId, field, mark.closedAt - RESUME_OVERLAP_MS)
      ).filter((m) => !mark.delivered.includes(m.eventId))
    : [];
  const delivered: string[] = [];
  const onEnd = async () => {
    if (context.connectionOpen()) return;
    await context.live.remember(resumeKey, { closedAt: Date.now(), delivered }).catch(() => {});
  };
  return mapped(subscription, backlog, keep, onEnd, async (message) => {
    const result = await context.events.execute(planned, message, context, variables);
    // Sent only while the socket is open (a closing one drops it): otherwise it is replayed.
    if (context.connectionOpen()) {
      delivered.push(message.eventId);
      if (delivered.length > DELIVERED_KEPT) delivered.shift();
    }
    return result;
  });
}

/** The channels a field follows: the tenant's, and for the kill switch also the platform's. */
function channelsOf(tenantId: string, field: SubscriptionField): string[] {
  return field === 'killSwitchChanged' ? [tenantId, PLATFORM_CHANNEL] : [tenantId];
}

function followChannels(live: LivePubSub, tenantId: string, field: SubscriptionField) {
  const parts = channelsOf(tenantId, field).map((channel) => live.subscribe(channel, FIELD_TOPICS[field]));
  return parts.length === 1 ? parts[0]! : mergeSubscriptions(parts);
}

/** What the field's channels published since `sinceMs`, oldest first. */
async function missed(live: LivePubSub, tenantId: string, field: SubscriptionField, sinceMs: number) {
  const lists = await Promise.all(
    channelsOf(tenantId, field).map((channel) =>
      live.recent(channel, FIELD_TOPICS[field], sinceMs).catch(() => []),
    ),
  );
  return lists.flat().sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * The backlog, then the subscription's messages (those the backlog held left out), that pass `keep`,
 * each mapped to its result. Not an async generator: a generator suspended in `await next()` would
 * only see `return()` after the next message, leaving the channel subscribed; here `return()`
 * unsubscribes at once and ends a pending `next()`.
 */
function mapped(
  subscription: LiveSubscription<LiveTopic>,
  backlog: LiveMessage<LiveTopic>[],
  keep: (message: LiveMessage<LiveTopic>) => boolean,
  onEnd: () => Promise<void>,
  map: (message: LiveMessage<LiveTopic>) => Promise<ExecutionResult>,
): AsyncGenerator<ExecutionResult> {
  const replayed = new Set(backlog.map((m) => m.eventId));
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await subscription.return();
    await onEnd();
  };
  const iterator: AsyncGenerator<ExecutionResult> = {
    async next() {
      for (;;) {
        const queued = backlog.shift();
        if (queued) {
          if (keep(queued)) return { value: await map(queued), done: false };
          continue;
        }
        const step = await subscription.next();
        if (step.done) return { value: undefined, done: true };
        if (replayed.has(step.value.eventId)) continue;
        if (keep(step.value)) return { value: await map(step.value), done: false };
      }
    },
    async return() {
      await end();
      return { value: undefined, done: true };
    },
    async throw(error: unknown) {
      await end();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async [Symbol.asyncDispose]() {
      await end();
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
