import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { trace } from '@opentelemetry/api';
import pg from 'pg';
import type { Identity } from '../auth/identity.ts';
import { ValidationError } from '../errors.ts';
import { injectTraceContext } from '../telemetry/trace-context.ts';
import {
  type Actor,
  EVENT_VERSIONS,
  type EventEnvelope,
  type EventPayload,
  type EventType,
  parseEnvelope,
} from './catalogue.ts';

/** Outbox shards; one relay at a time drains a shard, which keeps per-aggregate order. */
export const OUTBOX_SHARDS = 16;

/** The tenant and actor an event is published by. */
export interface EventSource {
  tenantId: string;
  actor: Actor;
  onBehalfOf?: { id: string; name: string };
}

/** What a service states when it publishes an event; id, version, time and trace are added. */
export interface PublishInput<T extends EventType = EventType> extends EventSource {
  type: T;
  aggregate: { type: string; id: string };
  payload: EventPayload<T>;
}

/** The tenant and actor of a verified identity, for {@link publish}. */
export function eventSource(identity: Identity): EventSource {
  return {
    tenantId: identity.tenantId,
    actor: { kind: identity.kind, id: identity.subjectId, name: identity.displayName },
  };
}

/**
 * Publishes a domain event: validates it against the catalogue and inserts it into the outbox in
 * the caller's transaction (`em` comes from `withTenant`/`tenantScope().run`), so the event exists
 * exactly when the change it announces commits. The only way to publish.
 */
export async function publish<T extends EventType>(
  em: EntityManager,
  input: PublishInput<T>,
): Promise<EventEnvelope<T>> {
  const [envelope] = await publishMany(em, [input]);
  return envelope as EventEnvelope<T>;
}

/** {@link publish} for several events in one statement (same transaction, order kept). */
export async function publishMany(em: EntityManager, inputs: PublishInput[]): Promise<EventEnvelope[]> {
  if (inputs.length === 0) return [];
  const carrier = injectTraceContext();
  const envelopes = inputs.map((input) => toEnvelope(input, carrier));
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

function toEnvelope(input: PublishInput, carrier: { traceparent?: string; tracestate?: string }) {
  const candidate = {
    id: randomUUID(),
    type: input.type,
    version: EVENT_VERSIONS[input.type] ?? 0,
    tenantId: input.tenantId,
    actor: input.actor,
    ...(input.onBehalfOf ? { onBehalfOf: input.onBehalfOf } : {}),
    aggregate: input.aggregate,
    occurredAt: new Date().toISOString(),
    ...carrier,
    payload: input.payload,
  };
  try {
    return parseEnvelope(candidate);
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const detail = issues?.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ');
    throw new ValidationError(`invalid ${String(input.type)} event: ${detail ?? String(error)}`, {
      eventType: input.type,
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
