import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPiggybackPool, HOLD } from '#kernel/db/piggyback-begin.ts';
import type { Logger } from '#kernel/logger.ts';
import { DEFAULT_RELAY_BATCH, DEFAULT_RELAY_POLL_MS } from '../defaults.ts';
import type { StreamTransport } from '../transport/transport.ts';

/** Pause after a failed append (the transport is down) before the next try. */
export const RELAY_RETRY_MS = 1_000;
/** Pause after a partial batch before the next pass (bounds the latency it adds). */
export const RELAY_COALESCE_MS = 3;
/** How long a relay waits before trying to LISTEN again after losing (or never getting) it. */
export const LISTEN_RETRY_MS = 10_000;
/** Advisory-lock class of the wake-up protocol (migration `outbox_wakeup`). */
const WAKEUP_LOCK = "hashtext('widgetdc.outbox.wakeup')";
/** Takes the busy lock (publishers stop notifying) if no other relay holds it. */
export const TAKE_BUSY_SQL = `select pg_try_advisory_lock(${WAKEUP_LOCK}, 2) as held`;
/** The publishing transactions in flight: each holds the publishers' lock until it ends. */
const IN_FLIGHT = `select coalesce(array_agg(virtualtransaction), '{}') as publishers from pg_locks
  where locktype = 'advisory' and classid = ${WAKEUP_LOCK}::oid and objid = 1 and objsubid = 2 and granted`;
/** Releases the busy lock and names the publishing transactions that may have skipped their NOTIFY. */
export const RELEASE_BUSY_SQL = `select pg_advisory_unlock(${WAKEUP_LOCK}, 2); ${IN_FLIGHT}`;
/** Which of the named publishing transactions are still in flight. */
export const STILL_IN_FLIGHT_SQL = `${IN_FLIGHT} and virtualtransaction = any($1::text[])`;
/** Stands for "every publishing transaction in flight now" (the busy lock went with a lost connection). */
const ALL_IN_FLIGHT = '*';
/** The channel the outbox trigger notifies on commit. */
export const OUTBOX_CHANNEL = 'widgetdc_outbox';

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** The application role's URL. */
  url: string;
  transport: StreamTransport;
  logger?: Logger;
  batchSize?: number;
  pollMs?: number;
}

/**
 * Moves committed outbox rows to their streams. Woken by LISTEN/NOTIFY, polling as a fallback;
 * rows are taken with `FOR UPDATE SKIP LOCKED` under per-shard advisory locks, so several relays
 * run at once and each aggregate's events reach their stream in order. The rows are deleted in
 * the same transaction that appended them, committed only after the append succeeded: a crash
 * between the two appends them again (at-least-once; consumers are idempotent).
 */
export class OutboxRelay {
  readonly #pool: pg.Pool;
  readonly #options: OutboxRelayOptions;
  readonly #batch: number;
  readonly #pollMs: number;
  #listener: pg.Client | undefined;
  /** Whether this relay holds the busy lock (on its listening connection). */
  #busy = false;
  /** Publishing transactions (virtual ids) in flight when the busy lock was released. */
  #draining: string[] = [];
  #wake: (() => void) | undefined;
  #woken = false;
  #listenAfter = 0;
  #running: Promise<void> | undefined;
  #stopping = false;
  /** Events appended since start. */
  relayed = 0;
  /** Relay transactions that appended events, since start. */
  passes = 0;

  constructor(options: OutboxRelayOptions) {
    this.#options = options;
    // BEGIN travels with the take_outbox statement: a pass costs two round trips, not three
    this.#pool = createPiggybackPool({ connectionString: options.url, max: 1 });
    this.#pool.on('error', () => {});
    this.#batch = options.batchSize ?? DEFAULT_RELAY_BATCH;
    if (!Number.isInteger(this.#batch) || this.#batch < 1 || this.#batch > 10_000) {
      throw new Error(`relay batch size must be a whole number from 1 to 10000 (got ${this.#batch})`);
    }
    this.#pollMs = options.pollMs ?? DEFAULT_RELAY_POLL_MS;
  }

  /** Moves one batch; returns how many events it appended. */
  async relayOnce(): Promise<number> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      // Losing this commit in a database crash only brings the rows back to be relayed again
      // (at-least-once; consumers skip what they processed), so it need not wait for its WAL flush.
      await client.query(`${HOLD}set local synchronous_commit = off`);
      const { rows } = await client.query<{ id: string; topic: string; tenant_id: string; envelope: string }>(
        // an integer literal: no parameters means one simple-protocol message
        `select id, topic, tenant_id, envelope from platform.take_outbox(${Math.trunc(this.#batch)})`,
      );
      if (rows.length > 0) {
        const entries = rows.map((r) => ({ stream: r.topic, tenantId: r.tenant_id, body: r.envelope }));
        const { transport } = this.#options;
        if (transport.appendInTransaction) await transport.appendInTransaction(client, entries);
        else await transport.append(entries);
      }
      await client.query('commit');
      this.relayed += rows.length;
      if (rows.length > 0) this.passes++;
      return rows.length;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** Starts relaying in the background until {@link close}. */
  start(): void {
    this.#running ??= this.#loop();
  }

  /**
   * While passes find rows the relay polls every {@link RELAY_COALESCE_MS} and holds the "busy"
   * advisory lock on its listening connection, so publishers do not NOTIFY (see the migration
   * `outbox_wakeup`). When a pass finds nothing it releases the lock and goes on polling until
   * every publishing transaction that was in flight then (and so may have skipped its NOTIFY) has
   * ended; one more pass, and only then it waits for a notification (or the poll interval).
   * Publishers never wait for a relay.
   */
  async #loop(): Promise<void> {
    const log = this.#options.logger;
    while (!this.#stopping) {
      if (!this.#listener && Date.now() >= this.#listenAfter) {
        this.#listenAfter = Date.now() + LISTEN_RETRY_MS;
        await this.#listen();
      }
      let moved = 0;
      try {
        this.#woken = false;
        moved = await this.relayOnce();
      } catch (error) {
        log?.warn('relay failed; retrying', { error: String(error) });
        await sleep(RELAY_RETRY_MS);
        continue;
      }
      if (moved > 0) {
        await this.#holdBusy();
        if (moved >= this.#batch) continue;
        // A partial batch: let a few more commits land before the next pass, so that a steady
        // stream of small transactions costs one relay transaction per few milliseconds.
        await sleep(RELAY_COALESCE_MS);
        continue;
      }
      if (this.#busy || this.#draining.length > 0) {
        if (this.#busy) await this.#releaseBusy();
        else await this.#drain();
        if (this.#draining.length > 0) await sleep(RELAY_COALESCE_MS);
        continue; // with none left in flight, this is the last pass
      }
      if (!this.#woken) await this.#idle();
    }
  }

  /** Takes the busy lock if nobody holds it (publishers stop notifying); failures are harmless. */
  async #holdBusy(): Promise<void> {
    const listener = this.#listener;
    this.#draining = [];
    if (this.#busy || !listener) return;
    try {
      const { rows } = await listener.query<{ held: boolean }>(TAKE_BUSY_SQL);
      this.#busy = rows[0]?.held === true && this.#listener === listener;
    } catch {
      // publishers keep notifying
    }
  }

  /** Releases the busy lock and notes the publishing transactions still in flight. */
  async #releaseBusy(): Promise<void> {
    this.#busy = false;
    const listener = this.#listener;
    if (!listener) return; // the connection, and with it the lock, is gone
    try {
      const results = (await listener.query(RELEASE_BUSY_SQL)) as unknown as pg.QueryResult<{
        publishers: string[];
      }>[];
      this.#draining = results[1]?.rows[0]?.publishers ?? [];
    } catch (error) {
      // The lock's state on this connection is unknown: drop the connection, which releases it,
      // and poll until the publishers in flight must have ended.
      this.#options.logger?.warn('releasing the relay lock failed; reconnecting', { error: String(error) });
      this.#listener = undefined;
      this.#draining = [ALL_IN_FLIGHT];
      await listener.end().catch(() => {});
    }
  }

  /** Forgets the noted publishing transactions that have ended. */
  async #drain(): Promise<void> {
    try {
      const { rows } =
        this.#draining[0] === ALL_IN_FLIGHT
          ? await this.#pool.query<{ publishers: string[] }>(IN_FLIGHT)
          : await this.#pool.query<{ publishers: string[] }>(STILL_IN_FLIGHT_SQL, [this.#draining]);
      this.#draining = rows[0]?.publishers ?? [];
    } catch (error) {
      this.#options.logger?.warn('checking for publishers in flight failed; retrying', {
        error: String(error),
      });
    }
  }

  #idle(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    // without a listening connection, wait no longer than until the next try to open one
    const wait = this.#listener
      ? this.#pollMs
      : Math.min(this.#pollMs, Math.max(0, this.#listenAfter - Date.now()));
    return new Promise((resolve) => {
      const timer = setTimeout(done, wait);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.url });
    const lost = () => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      if (this.#busy) {
        // the session's locks ended with it: wait out the publishers that may have skipped NOTIFY
        this.#busy = false;
        this.#draining = [ALL_IN_FLIGHT];
      }
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => {
      this.#woken = true;
      this.#wake?.();
    });
    try {
      await client.connect();
      await client.query(`listen ${OUTBOX_CHANNEL}`);
      this.#listener = client;
    } catch (error) {
      this.#options.logger?.debug('LISTEN unavailable; polling only', { error: String(error) });
      await client.end().catch(() => {});
    }
  }

  /** Stops after the current batch and closes the connections. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    await this.#listener?.end().catch(() => {});
    await this.#pool.end();
  }
}
