import type { Meter } from '@opentelemetry/api';
import { ATTR_GROUP, ATTR_STREAM } from '#kernel/telemetry/attributes.ts';
import type { StreamTransport } from '../transport/transport.ts';
import { streamStats } from './dead-letters.ts';

/**
 * Exports {@link streamStats} as observable gauges (`widgetdc.events.stream.length`, `.pending`,
 * `.lag`, `.oldest_pending_age`, `.dead_letters`), one series per stream and group, read once per
 * collection. Returns a function that unregisters them.
 */
export function registerEventBusMetrics(meter: Meter, transport: StreamTransport): () => void {
  const gauge = (name: string, description: string, unit = '{entry}') =>
    meter.createObservableGauge(`widgetdc.events.${name}`, { description, unit });
  const length = gauge('stream.length', 'Entries in the stream');
  const pending = gauge('stream.pending', 'Entries delivered to the group and not yet acknowledged');
  const lag = gauge('stream.lag', 'Entries not yet delivered to the group');
  const oldest = gauge('stream.oldest_pending_age', 'Age of the oldest unacknowledged entry', 'ms');
  const dead = gauge('stream.dead_letters', 'Entries in the dead-letter stream');
  const observables = [length, pending, lag, oldest, dead];
  const callback = async (result: import('@opentelemetry/api').BatchObservableResult) => {
    for (const s of await streamStats(transport)) {
      const attributes = { [ATTR_STREAM]: s.stream, [ATTR_GROUP]: s.group };
      result.observe(length, s.length, attributes);
      result.observe(pending, s.pending, attributes);
      result.observe(lag, s.lag, attributes);
      result.observe(oldest, s.oldestPendingMs, attributes);
      result.observe(dead, s.deadLetters, attributes);
    }
  };
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}
