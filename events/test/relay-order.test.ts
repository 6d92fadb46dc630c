// Several relays at once: each event reaches its stream once, and each aggregate's events in the
// order they were published, whichever relay takes them. (This found the embedded transport reading
// entries in the text order of their ids: "10" before "9".)

import { randomUUID } from 'node:crypto';
import { publish } from '#events/producer/outbox.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { eventually, makeTransport, useEventSuite } from './support.ts';

const suite = useEventSuite({ tenants: ['order'] });

describe.each(['redis', 'postgres'] as const)('three relays: %s', (kind) => {
  it('relay every event once, each aggregate in publishing order', async () => {
    const transport = makeTransport(kind, suite.db);
    await transport.ensureGroup('sample.uploaded', 'order');
    const relays = Array.from(
      { length: 3 },
      () => new OutboxRelay({ url: suite.db.appUrl, transport, pollMs: 20 }),
    );
    const aggregates = Array.from({ length: 8 }, () => randomUUID());
    const perAggregate = 30;
    try {
      for (const relay of relays) relay.start();
      // the aggregates publish concurrently, each one event after another
      await Promise.all(
        aggregates.map(async (documentId) => {
          for (let n = 0; n < perAggregate; n++) {
            await withTenant(suite.orm, suite.source('order').tenantId, (em) =>
              publish(em, SampleUploaded, {
                ...suite.source('order'),
                aggregate: { type: 'document', id: documentId },
                payload: { documentId, title: String(n), mimeType: 'text/plain' },
              }),
            );
          }
        }),
      );
      const seen: { documentId: string; n: number; id: string }[] = [];
      await eventually(async () => {
        for (const d of await transport.read('order', 'c', ['sample.uploaded'], 500, 10)) {
          const event = JSON.parse(d.body) as { id: string; payload: { documentId: string; title: string } };
          seen.push({ documentId: event.payload.documentId, n: Number(event.payload.title), id: event.id });
        }
        return seen.length >= aggregates.length * perAggregate;
      }, 'every event in the stream');
      expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
      for (const documentId of aggregates) {
        expect(seen.filter((s) => s.documentId === documentId).map((s) => s.n)).toEqual(
          Array.from({ length: perAggregate }, (_, n) => n),
        );
      }
      // each relayed what it took, no more (counted after its commit)
      await eventually(
        async () => relays.reduce((sum, r) => sum + r.relayed, 0) === seen.length,
        'the relays counted every event',
      );
    } finally {
      for (const relay of relays) await relay.close();
      await transport.destroy(['sample.uploaded']);
      await transport.close();
    }
  });
});
