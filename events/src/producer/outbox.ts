import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import type { Identity } from '#kernel/auth/identity.ts';
import { ValidationError } from '#kernel/errors.ts';
import { injectTraceContext } from '#kernel/telemetry/trace-context.ts';
import {
  type Actor,
  definitionsOf,
  type EventDefinition,
  type EventEnvelope,
  type PayloadOf,
  parseEnvelope,
} from '../catalogue.ts';

/** Outbox shards; one relay at a time drains a shard, which keeps per-aggregate order. */
export const OUTBOX_SHARDS = 16;

/** The tenant and actor an event is published by. */
export interface EventSource {
  tenantId: string;
  actor: Actor;
  onBehalfOf?: { id: string; name: string };
}

/** What a service states when it publishes an event of type `D`; id, version, time and trace are added. */
export interface PublishInput<D extends EventDefinition = EventDefinition> extends EventSource {
  aggregate: { type: string; id: string };
  payload: PayloadOf<D>;
}

/** One event to publish: its definition and what the service states. */
export interface PublishItem<D extends EventDefinition = EventDefinition> {
  definition: D;
  input: PublishInput<D>;
}

/** The tenant and actor of a verified identity, for {@link publish}. */
export function eventSource(identity: Identity): EventSource {
  return {
    tenantId: identity.tenantId,
    actor: { kind: identity.kind, id: identity.subjectId, name: identity.displayName },
  };
}

/**
 * Publishes a domain event of the type `definition` declares: validates it against that definition
 * and inserts it into the outbox in the caller's transaction (`em` comes from
 * `withTenant`/`tenantScope().run`), so the event exists exactly when the change it announces
 * commits. The only way to publish.
 */
export async function publish<D extends EventDefinition>(
  em: EntityManager,
  definition: D,
  input: PublishInput<D>,
): Promise<EventEnvelope<D>> {
  const [envelope] = await publishMany(em, [{ definition, input }]);
  return envelope as EventEnvelope<D>;
}

/** {@link publish} for several events in one statement (same transaction, order kept). */
export async function publishMany(em: EntityManager, items: PublishItem[]): Promise<EventEnvelope[]> {
  if (items.length === 0) return [];
  const carrier = injectTraceContext();
  const envelopes = items.map((item) => toEnvelope(item, carrier));
  // Literals quoted by node-postgres's escapeLiteral, not parameters: a statement without
  // parameters travels with the transaction's held BEGIN and tenant setting when it is the
  // transaction's first (piggyback-begin.ts), and costs one simple-protocol message otherwise.
  const rows = envelopes.map((e) => {
    const key = `${e.aggregate.type}:${e.aggregate.id}`;
    const values = [e.tenantId, e.id, e.type, key].map((v) => pg.escapeLiteral(v));
    return `(${values.join(', ')}, ${shardOf(key)}, ${pg.escapeLiteral(JSON.stringify(e))}::json)`;
  });
  await em.execute(
    `insert into platform.outbox (tenant_id, event_id, topic, aggregate_key, shard, envelope) values ${rows.join(', ')}`,
  );
  trace.getActiveSpan()?.addEvent('events.published', { count: envelopes.length });
  return envelopes;
}

function toEnvelope(
  { definition, input }: PublishItem,
  carrier: { traceparent?: string; tracestate?: string },
) {
  const candidate = {
    id: randomUUID(),
    type: definition.type,
    version: definition.version,
    tenantId: input.tenantId,
    actor: input.actor,
    ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
    aggregate: input.aggregate,
    occurredAt: new Date().toISOString(),
    ...carrier,
    payload: input.payload,
  };
  try {
    return parseEnvelope(candidate, definitionsOf([definition]));
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const detail = issues?.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
    throw new ValidationError(`invalid ${definition.type} event: ${detail ?? String(error)}`, {
      eventType: definition.type,
    });
  }
}

/** The outbox shard of an aggregate key (FNV-1a, stable across processes and versions). */
export function shardOf(aggregateKey: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < aggregateKey.length; i++) {
    hash ^= aggregateKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % OUTBOX_SHARDS;
}
