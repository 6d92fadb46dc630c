import { type EventDefinitions, parseEnvelope } from '../../catalogue.ts';
import { UnrecoverableError } from '../../errors.ts';
import type { Delivery } from '../../transport/transport.ts';
import type { AnyEnvelope } from '../consumer.ts';

/** A delivery with its parsed event and its aggregate's ordering key. */
export interface WorkItem {
  delivery: Delivery;
  event: AnyEnvelope;
  /** Stream and aggregate: events of one key are handled in order. */
  key: string;
}

/** An item in a transaction, with the attempt the handler sees. */
export interface Attempt extends WorkItem {
  attempt: number;
}

/** Parses and validates a delivery against the consumer's definitions; a bad one is unrecoverable. */
export function parseDelivery(delivery: Delivery, definitions: EventDefinitions): WorkItem {
  const event = parseEnvelope(JSON.parse(delivery.body), definitions) as AnyEnvelope;
  if (event.type !== delivery.stream) {
    throw new UnrecoverableError(`event ${event.type} arrived on stream ${delivery.stream}`);
  }
  return { delivery, event, key: `${delivery.stream}|${event.aggregate.type}:${event.aggregate.id}` };
}
