// Outbox wake-ups: a relay that is busy polling keeps publishers from notifying, and when it stops
// polling it waits for every transaction that did not notify, so no event waits for the poll
// interval. The database's part is checked step by step; the relay's part end to end with a poll
// interval of an hour, so only notifications can deliver. PGlite has one session behind every
// connection and hands a notification to whichever connection runs the next statement, so there
// the relay relies on polling: the end-to-end test polls, and the lock protocol (which one session
// cannot exercise) is checked on the native server only.

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { publish } from '#events/producer/outbox.ts';
import {
  OUTBOX_CHANNEL,
  OutboxRelay,
  RELEASE_BUSY_SQL,
  STILL_IN_FLIGHT_SQL,
  TAKE_BUSY_SQL,
} from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { testDatabaseKind } from '#testing/test-database.ts';
import { eventually, makeTransport, useEventSuite } from './support.ts';

const native = testDatabaseKind() !== 'pglite';
const suite = useEventSuite({ tenants: ['wakeup'] });

const uploaded = (em: Parameters<typeof publish>[0]) => {
  const documentId = randomUUID();
  return publish(em, SampleUploaded, {
    ...suite.source('wakeup'),
    aggregate: { type: 'document', id: documentId },
    payload: { documentId, title: 'wake', mimeType: 'text/plain' },
  });
};
const publishOne = () => withTenant(suite.orm, suite.source('wakeup').tenantId, uploaded);

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: suite.db.appUrl });
  await client.connect();
  return client;
}

describe('outbox wake-ups', () => {
  it(`a relay ${native ? 'waiting an hour between polls' : 'polling'} relays every event, before and after busy spells`, async () => {
    const transport: StreamTransport = makeTransport('redis', suite.db);
    await transport.ensureGroup('sample.uploaded', 'wake');
    const relay = new OutboxRelay({ url: suite.db.appUrl, transport, pollMs: native ? 3_600_000 : 50 });
    const read: string[] = [];
    const readAll = async (n: number, what: string) =>
      eventually(async () => {
        for (const d of await transport.read('wake', 'c', ['sample.uploaded'], 500, 10)) read.push(d.id);
        return read.length === n;
      }, what);
    try {
      relay.start();
      await publishOne();
      await readAll(1, 'the first event, woken by its notification');
      for (let spell = 1; spell <= 3; spell++) {
        // a burst keeps the relay busy (polling, holding the lock), then it goes idle again
        await Promise.all(Array.from({ length: 200 }, publishOne));
        await readAll(1 + spell * 201 - 1, `the burst of spell ${spell}`);
        await publishOne();
        await readAll(1 + spell * 201, `the single event after spell ${spell}`);
      }
      await eventually(async () => relay.relayed === 604, 'the last commit counted');
      expect(relay.relayed).toBe(604);
    } finally {
      await relay.close();
      await transport.destroy(['sample.uploaded']);
      await transport.close();
    }
  });

  // The native server only (see the top of the file): PGlite's one session holds every lock itself.
  if (native)
    it('publishers notify only while no relay is busy, and a relay going idle names those that did not', async () => {
      const relay = await connect();
      const listener = await connect();
      const other = await connect();
      const heard: string[] = [];
      listener.on('notification', (n) => heard.push(n.payload ?? ''));
      await listener.query(`listen ${OUTBOX_CHANNEL}`);
      const sentinel = async (name: string) => {
        await other.query('select pg_notify($1, $2)', [OUTBOX_CHANNEL, name]);
        await eventually(async () => heard.includes(name), `the ${name} notification`);
      };
      try {
        // no relay busy: the commit notifies
        await publishOne();
        await sentinel('one');
        expect(heard).toEqual(['', 'one']);

        // a busy relay: no notification (the sentinel, sent after the commit, arrives alone)
        expect((await relay.query(TAKE_BUSY_SQL)).rows[0].held).toBe(true);
        await publishOne();
        await sentinel('two');
        expect(heard).toEqual(['', 'one', 'two']);

        // a publishing transaction still open when the relay stops polling is named, until it ends
        let commit: () => void = () => {};
        const committing = new Promise<void>((resolve) => {
          commit = resolve;
        });
        let inserted: () => void = () => {};
        const insertedYet = new Promise<void>((resolve) => {
          inserted = resolve;
        });
        const open = withTenant(suite.orm, suite.source('wakeup').tenantId, async (em) => {
          await uploaded(em);
          inserted();
          await committing;
        });
        await insertedYet;
        const released = (await relay.query(RELEASE_BUSY_SQL)) as unknown as pg.QueryResult[];
        const inFlight: string[] = released[1]!.rows[0].publishers;
        expect(inFlight).toHaveLength(1);
        // a publisher starting now notifies (no relay is busy) and is not waited for
        await publishOne();
        await sentinel('three');
        expect(heard).toEqual(['', 'one', 'two', '', 'three']);
        expect((await other.query(STILL_IN_FLIGHT_SQL, [inFlight])).rows[0].publishers).toEqual(inFlight);
        commit();
        await open;
        expect((await other.query(STILL_IN_FLIGHT_SQL, [inFlight])).rows[0].publishers).toEqual([]);
      } finally {
        await relay.end();
        await listener.end();
        await other.end();
      }
    });
});
