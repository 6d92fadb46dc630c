import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { type AuditEntry, recordAudits } from '#kernel/audit/audit-log.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import type { Logger } from '#kernel/logger.ts';
import { ATTR_EVENT_OUTCOME } from '#kernel/telemetry/attributes.ts';
import type { Actor } from '../../catalogue.ts';
import { describeError } from '../../errors.ts';
import { publish } from '../../producer/outbox.ts';
import type { AnyEnvelope, ConsumerContext, ConsumerDefinition } from '../consumer.ts';
import type { Outcome, WorkerCounters } from './counters.ts';
import { startEventSpan } from './event-span.ts';
import { recordProcessed } from './processed-ledger.ts';
import type { Attempt } from './work-item.ts';

/** What {@link runEventTransaction} works with. */
export interface EventTransactionDeps {
  orm: MikroORM;
  consumer: ConsumerDefinition;
  /** The transport's kind (`redis`, `postgres`), the spans' messaging system. */
  system: string;
  actorFor: (tenantId: string) => Promise<Actor>;
  logger: Logger | undefined;
  counters: WorkerCounters;
}

/**
 * One transaction in the events' tenant (all of `attempts` share it): records their ids as
 * processed, runs the handler for each id not processed before, in order, each in its own span
 * continuing its producer's trace, and appends their audit records. Throws, rolled back, when a
 * handler does.
 */
export async function runEventTransaction(
  deps: EventTransactionDeps,
  attempts: readonly Attempt[],
): Promise<Outcome[]> {
  const { consumer, orm } = deps;
  const tenantId = attempts[0]!.event.tenantId;
  const traced = attempts.map((attempt) =>
    startEventSpan(attempt, attempts.length, { system: deps.system, group: consumer.group }),
  );
  let failed: number | undefined;
  try {
    // Before the transaction: no connection is held while a token is fetched or verified.
    const actor = await deps.actorFor(tenantId);
    const outcomes = await withTenant(orm, tenantId, async (em) => {
      const fresh = await recordProcessed(em, tenantId, consumer.group, attempts);
      const outcomes: Outcome[] = [];
      const audits: AuditEntry[] = [];
      for (const [n, attempt] of attempts.entries()) {
        const { event } = attempt;
        if (!fresh.delete(event.id.toLowerCase())) {
          outcomes.push('duplicate');
          continue;
        }
        // The user whose action caused this, also through a chain of follow-up events.
        const origin = event.onBehalfOf ?? { id: event.actor.id, name: event.actor.name };
        const { span, parent } = traced[n]!;
        failed = n;
        await context.with(trace.setSpan(parent, span), () =>
          consumer.handle(event, consumerContext(deps, em, attempt, actor, origin)),
        );
        failed = undefined;
        outcomes.push('handled');
        if (consumer.audited !== false) {
          audits.push({
            actor: { ...actor, onBehalfOf: origin },
            action: `${consumer.group}.${event.type}`,
            targetType: event.aggregate.type,
            targetId: event.aggregate.id,
            outcome: 'success',
            input: { eventId: event.id, type: event.type },
            traceId: span.spanContext().traceId,
          });
        }
      }
      await recordAudits(em, tenantId, audits);
      return outcomes;
    });
    deps.counters.transactions++;
    for (const [n, { span }] of traced.entries()) {
      span.setAttribute(ATTR_EVENT_OUTCOME, outcomes[n]!);
      span.end();
    }
    return outcomes;
  } catch (error) {
    for (const [n, { span }] of traced.entries()) {
      if (failed === undefined || failed === n) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: describeError(error) });
      } else {
        // Another event of the batch failed; this one's effect was rolled back with it.
        span.setAttribute(ATTR_EVENT_OUTCOME, 'rolled_back');
      }
      span.end();
    }
    throw error;
  }
}

/** What a handler gets: the transaction's EntityManager and a `publish` that keeps the chain's origin. */
function consumerContext(
  deps: EventTransactionDeps,
  em: EntityManager,
  { event, attempt }: Attempt,
  actor: Actor,
  origin: NonNullable<AnyEnvelope['onBehalfOf']>,
): ConsumerContext {
  return {
    em,
    group: deps.consumer.group,
    attempt,
    logger: deps.logger ?? silentLogger,
    actor,
    publish: (definition, input) =>
      publish(em, definition, {
        ...input,
        tenantId: event.tenantId,
        actor,
        onBehalfOf: input.onBehalfOf ?? origin,
      }),
    publishIn: (other, definition, input) =>
      publish(other, definition, {
        ...input,
        tenantId: event.tenantId,
        actor,
        onBehalfOf: input.onBehalfOf ?? origin,
      }),
  };
}

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
