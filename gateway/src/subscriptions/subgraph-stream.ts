import { type ExecutionResult, GraphQLError } from 'graphql';
import { UnavailableError } from '#kernel/errors.ts';
import { toGraphQLError } from '#kernel/graphql/errors.ts';
import { STREAM_PATH } from '#kernel/graphql/subscription-route.ts';
import { sseEvents } from '#kernel/http/sse.ts';
import type { Logger } from '#kernel/logger.ts';
import { subgraphRefusal } from '../auth-forwarding-data-source.ts';
import type { GatewayContext } from '../context.ts';
import type { EventExecutor, PlannedSubscription, StreamedResponse } from './federated-events.ts';

/** Opens the stream of a subscription field a subgraph declares itself (askStream). */
export interface SubgraphStreams {
  open(
    planned: PlannedSubscription,
    context: GatewayContext,
    variables: Readonly<Record<string, unknown>>,
  ): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
}

/** Options of {@link createSubgraphStreams}. */
export interface SubgraphStreamsOptions {
  /** Routing URL (`…/graphql`) of each subgraph; its stream is served at {@link STREAM_PATH} beside it. */
  urls: Readonly<Record<string, string>>;
  events: EventExecutor;
  logger: Logger;
}

const DONE = { value: undefined, done: true } as const;

/**
 * A subscription tied to one client operation, served by the subgraph that declares it: the
 * planner's primary fetch is POSTed to the subgraph's stream route (GraphQL over SSE) with the
 * subscriber's own token and request id, as any subgraph fetch is (zero trust: the subgraph checks
 * roles and tenant); each `next` event runs the rest of the plan like an event of `live` does, and
 * `complete` ends the subscription. Ending it from the client (`complete`, a closed socket) aborts
 * the HTTP request, which the subgraph sees as its caller going away (its model call is cancelled).
 */
export function createSubgraphStreams(options: SubgraphStreamsOptions): SubgraphStreams {
  return {
    async open(planned, context, variables) {
      const { service } = planned.source;
      const url = options.urls[service];
      if (!url) throw new Error(`the supergraph gives the ${service} subgraph no routing URL`);
      const unavailable = (what: string) =>
        toGraphQLError(new UnavailableError(`${what}; subscribe again shortly`));
      const controller = new AbortController();
      let response: Response;
      try {
        response = await fetch(new URL(STREAM_PATH, url), {
          method: 'POST',
          headers: {
            authorization: context.authorization,
            'x-request-id': context.requestId,
            'content-type': 'application/json',
            accept: 'text/event-stream',
          },
          body: JSON.stringify({
            query: planned.source.operation,
            variables: Object.fromEntries(
              planned.source.variableUsages.filter((n) => n in variables).map((n) => [n, variables[n]]),
            ),
            ...(planned.source.operationName ? { operationName: planned.source.operationName } : {}),
          }),
          signal: controller.signal,
        });
      } catch (error) {
        options.logger.warn('subgraph stream unreachable', { service, message: String(error) });
        return { errors: [unavailable(`The ${service} service cannot be reached`)] };
      }
      if (
        !response.ok ||
        !response.body ||
        !response.headers.get('content-type')?.startsWith('text/event-stream')
      ) {
        const body = await response.json().catch(() => undefined);
        return { errors: [subgraphRefusal(response.status, body)] };
      }
      const events = sseEvents(response.body);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        controller.abort();
      };
      const relay = (result: StreamedResponse): Promise<ExecutionResult> | ExecutionResult => {
        if (result.data) return options.events.executeStreamed(planned, result, context, variables);
        // Refused by the field (roles, arguments): the subgraph's errors, as it worded them.
        return {
          errors: (result.errors ?? []).map((e) => {
            const { message, extensions } = e as { message?: string; extensions?: Record<string, unknown> };
            return new GraphQLError(message ?? `The ${service} service refused the subscription`, {
              ...(extensions ? { extensions } : {}),
            });
          }),
        };
      };
      const iterator: AsyncGenerator<ExecutionResult> = {
        async next() {
          if (ended) return DONE;
          try {
            for (;;) {
              const step = await events.next();
              if (step.done) {
                end();
                return {
                  value: { errors: [unavailable(`The ${service} service ended the stream early`)] },
                  done: false,
                };
              }
              if (step.value.event === 'complete') {
                end();
                return DONE;
              }
              if (step.value.event !== 'next') continue;
              return { value: await relay(JSON.parse(step.value.data) as StreamedResponse), done: false };
            }
          } catch (error) {
            if (ended) return DONE;
            end();
            options.logger.warn('subgraph stream broke', { service, message: String(error) });
            return { value: { errors: [unavailable(`The ${service} service's stream broke`)] }, done: false };
          }
        },
        async return() {
          end();
          return DONE;
        },
        async throw(error: unknown) {
          end();
          throw error;
        },
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async [Symbol.asyncDispose]() {
          end();
        },
      };
      return iterator;
    },
  };
}
