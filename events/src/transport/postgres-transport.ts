import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DEFAULT_STREAM_MAXLEN } from '../defaults.ts';
import type {
  AppendEntry,
  DeadLetter,
  DeadLetterInfo,
  DeadLetterQuery,
  Delivery,
  SqlClient,
  StreamGroupStats,
  StreamTransport,
} from './transport.ts';

/** How often a blocked read looks for new entries on the embedded transport. */
export const DEFAULT_PG_POLL_MS = 50;

/** Options of {@link PostgresStreamTransport}. */
export interface PostgresTransportOptions {
  /** The application role's URL. */
  url: string;
  /** Streams are namespaced by this prefix (tests use a unique one). */
  prefix?: string;
  maxLen?: number;
  pollMs?: number;
  poolMax?: number;
}

/**
 * The embedded transport: the same semantics as Redis Streams on PostgreSQL tables (entries,
 * groups with a last-delivered id, a pending list with delivery counts, dead letters). Appends to a
 * stream are serialised by an advisory lock so ids commit in order and no reader skips one.
 */
export class PostgresStreamTransport implements StreamTransport {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #prefix: string;
  readonly #maxLen: number;
  readonly #pollMs: number;
  #appends = 0;

  constructor(options: PostgresTransportOptions) {
    this.#pool = new pg.Pool({ connectionString: options.url, max: options.poolMax ?? 4 });
    this.#pool.on('error', () => {});
    this.#prefix = options.prefix ?? '';
    this.#maxLen = options.maxLen ?? DEFAULT_STREAM_MAXLEN;
    this.#pollMs = options.pollMs ?? DEFAULT_PG_POLL_MS;
  }

  #key(stream: string): string {
    return `${this.#prefix}${stream}`;
  }

  /**
   * One statement in an explicit transaction. PGlite's socket server interleaves the messages of
   * concurrent connections' extended-protocol queries outside a transaction on its one session;
   * inside one, it serves a single connection. On a real server this costs one round trip more.
   */
  #query<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    return this.#tx((client) => client.query<R>(sql, params));
  }

  async #tx<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async append(entries: AppendEntry[]): Promise<string[]> {
    if (entries.length === 0) return [];
    return this.#tx((client) => this.appendInTransaction(client, entries));
  }

  /** Appends within the caller's transaction; every hundredth call trims beyond MAXLEN (approximate). */
  async appendInTransaction(client: SqlClient, entries: AppendEntry[]): Promise<string[]> {
    const keys = [...new Set(entries.map((e) => this.#key(e.stream)))].sort();
    for (const key of keys) {
      await client.query(`select pg_advisory_xact_lock(hashtext('widgetdc.stream'), hashtext($1))`, [key]);
    }
    const { rows } = await client.query<{ id: string }>(
      `insert into platform.stream_entries (stream, tenant_id, envelope)
       select s, nullif(t, '')::uuid, b from unnest($1::text[], $2::text[], $3::text[]) with ordinality as x(s, t, b, n)
       order by n returning id::text`,
      [entries.map((e) => this.#key(e.stream)), entries.map((e) => e.tenantId), entries.map((e) => e.body)],
    );
    if (++this.#appends % 100 === 0) {
      for (const key of keys) {
        await client.query(
          `delete from platform.stream_entries where stream = $1
           and id <= (select max(id) from platform.stream_entries where stream = $1) - $2`,
          [key, this.#maxLen],
        );
      }
    }
    return rows.map((r) => r.id);
  }

  async ensureGroup(stream: string, group: string): Promise<void> {
    await this.#query(
      'insert into platform.stream_groups (stream, group_name) values ($1, $2) on conflict do nothing',
      [this.#key(stream), group],
    );
  }

  async read(
    group: string,
    consumer: string,
    streams: string[],
    count: number,
    blockMs: number,
  ): Promise<Delivery[]> {
    const deadline = Date.now() + blockMs;
    for (;;) {
      const found: Delivery[] = [];
      for (const stream of streams) {
        if (found.length >= count) break;
        found.push(...(await this.#readOnce(group, consumer, stream, count - found.length)));
      }
      const left = deadline - Date.now();
      if (found.length > 0 || left <= 0) return found;
      await sleep(Math.min(this.#pollMs, left));
    }
  }

  async #readOnce(group: string, consumer: string, stream: string, count: number): Promise<Delivery[]> {
    const { rows } = await this.#query<{ id: string; envelope: string }>(
      `with g as (
         select last_id from platform.stream_groups where stream = $1 and group_name = $2 for update
       ), e as (
         select id, envelope from platform.stream_entries
         where stream = $1 and id > (select last_id from g) order by id limit $3
       ), p as (
         insert into platform.stream_pending (stream, group_name, entry_id, consumer, delivered_at, delivery_count)
         select $1, $2, id, $4, clock_timestamp(), 1 from e
       ), u as (
         update platform.stream_groups set last_id = (select max(id) from e)
         where stream = $1 and group_name = $2 and exists (select 1 from e)
       )
       select e.id::text as id, e.envelope from e order by e.id`, // e.id: numeric order (a bare id sorts the text)
      [this.#key(stream), group, count, consumer],
    );
    return rows.map((r) => ({ stream, id: r.id, body: r.envelope, deliveryCount: 1 }));
  }

  async claimStale(
    group: string,
    consumer: string,
    stream: string,
    minIdleMs: number,
    count: number,
  ): Promise<Delivery[]> {
    const { rows } = await this.#query<{ id: string; delivery_count: number; envelope: string }>(
      `with c as (
         select entry_id from platform.stream_pending
         where stream = $1 and group_name = $2 and delivered_at < clock_timestamp() - make_interval(secs => $3::float8 / 1000)
         order by entry_id limit $4 for update skip locked
       ), u as (
         update platform.stream_pending p
         set consumer = $5, delivered_at = clock_timestamp(), delivery_count = p.delivery_count + 1
         from c where p.stream = $1 and p.group_name = $2 and p.entry_id = c.entry_id
         returning p.entry_id, p.delivery_count
       )
       select u.entry_id::text as id, u.delivery_count, e.envelope
       from u join platform.stream_entries e on e.id = u.entry_id order by u.entry_id`,
      [this.#key(stream), group, minIdleMs, count, consumer],
    );
    return rows.map((r) => ({ stream, id: r.id, body: r.envelope, deliveryCount: r.delivery_count }));
  }

  async touch(group: string, consumer: string, stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#query(
      `update platform.stream_pending set delivered_at = clock_timestamp()
       where stream = $1 and group_name = $2 and consumer = $3 and entry_id = any($4::bigint[])`,
      [this.#key(stream), group, consumer, ids],
    );
  }

  async ack(group: string, stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#query(
      'delete from platform.stream_pending where stream = $1 and group_name = $2 and entry_id = any($3::bigint[])',
      [this.#key(stream), group, ids],
    );
  }

  async deadLetter(delivery: Delivery, info: DeadLetterInfo): Promise<void> {
    await this.#tx(async (client) => {
      await client.query(
        `insert into platform.stream_dead_letters
           (stream, group_name, original_id, tenant_id, envelope, error, attempts, consumer)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          this.#key(delivery.stream),
          info.group,
          delivery.id,
          info.tenantId ?? null,
          delivery.body,
          info.error,
          info.attempts,
          info.consumer,
        ],
      );
      await client.query(
        'delete from platform.stream_pending where stream = $1 and group_name = $2 and entry_id = $3',
        [this.#key(delivery.stream), info.group, delivery.id],
      );
    });
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const { rows } = await this.#query<DeadLetterRow>(
      `select ${DEAD_LETTER_COLUMNS} from platform.stream_dead_letters d
       where stream = $1 and ($2::uuid is null or tenant_id = $2::uuid) and d.id > $3
       order by d.id limit $4`, // d.id: numeric order (a bare id sorts the text column)
      [this.#key(query.stream), query.tenantId ?? null, query.after ?? '0', query.limit],
    );
    return rows.map((r) => this.#toDeadLetter(r));
  }

  async getDeadLetter(stream: string, id: string): Promise<DeadLetter | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const { rows } = await this.#query<DeadLetterRow>(
      `select ${DEAD_LETTER_COLUMNS} from platform.stream_dead_letters where stream = $1 and id = $2`,
      [this.#key(stream), id],
    );
    return rows[0] ? this.#toDeadLetter(rows[0]) : undefined;
  }

  async replayDeadLetter(stream: string, id: string): Promise<string | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    return this.#tx(async (client) => {
      const key = this.#key(stream);
      await client.query(`select pg_advisory_xact_lock(hashtext('widgetdc.stream'), hashtext($1))`, [key]);
      const { rows } = await client.query<{ id: string }>(
        `with d as (delete from platform.stream_dead_letters where stream = $1 and id = $2 returning tenant_id, envelope)
         insert into platform.stream_entries (stream, tenant_id, envelope) select $1, tenant_id, envelope from d
         returning id::text`,
        [key, id],
      );
      return rows[0]?.id;
    });
  }

  async discardDeadLetter(stream: string, id: string): Promise<boolean> {
    if (!/^\d{1,18}$/.test(id)) return false;
    const result = await this.#query(
      'delete from platform.stream_dead_letters where stream = $1 and id = $2',
      [this.#key(stream), id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async streams(): Promise<string[]> {
    const { rows } = await this.#query<{ stream: string }>(
      `select stream from platform.stream_groups union select stream from platform.stream_dead_letters
       order by 1`,
      [],
    );
    return rows
      .filter((r) => r.stream.startsWith(this.#prefix))
      .map((r) => r.stream.slice(this.#prefix.length));
  }

  async groups(stream: string): Promise<string[]> {
    const { rows } = await this.#query<{ group_name: string }>(
      'select group_name from platform.stream_groups where stream = $1 order by group_name',
      [this.#key(stream)],
    );
    return rows.map((r) => r.group_name);
  }

  async stats(stream: string, group: string): Promise<StreamGroupStats> {
    const { rows } = await this.#query<{
      length: string;
      pending: string;
      lag: string;
      oldest: string | null;
      dead: string;
    }>(
      `select
         (select count(*) from platform.stream_entries where stream = $1) as length,
         (select count(*) from platform.stream_pending where stream = $1 and group_name = $2) as pending,
         (select count(*) from platform.stream_entries where stream = $1
            and id > coalesce((select last_id from platform.stream_groups where stream = $1 and group_name = $2), 0)) as lag,
         (select extract(epoch from clock_timestamp() - min(e.created_at)) * 1000
            from platform.stream_pending p join platform.stream_entries e on e.id = p.entry_id
            where p.stream = $1 and p.group_name = $2) as oldest,
         (select count(*) from platform.stream_dead_letters where stream = $1 and group_name = $2) as dead`,
      [this.#key(stream), group],
    );
    const r = rows[0]!;
    return {
      stream,
      group,
      length: Number(r.length),
      pending: Number(r.pending),
      lag: Number(r.lag),
      oldestPendingMs: Math.max(0, Math.round(Number(r.oldest ?? 0))),
      deadLetters: Number(r.dead),
    };
  }

  async destroy(streams: string[]): Promise<void> {
    const keys = streams.map((s) => this.#key(s)).join(',');
    for (const table of ['stream_pending', 'stream_groups', 'stream_dead_letters', 'stream_entries']) {
      await this.#query(`delete from platform.${table} where stream = any(string_to_array($1, ','))`, [keys]);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  #toDeadLetter(r: DeadLetterRow): DeadLetter {
    return {
      id: r.id,
      stream: r.stream.slice(this.#prefix.length),
      group: r.group_name,
      originalId: r.original_id,
      tenantId: r.tenant_id ?? undefined,
      body: r.envelope,
      error: r.error,
      attempts: r.attempts,
      consumer: r.consumer,
      failedAt: new Date(r.failed_at).toISOString(),
    };
  }
}

const DEAD_LETTER_COLUMNS =
  'id::text, stream, group_name, original_id, tenant_id::text, envelope, error, attempts, consumer, failed_at';

interface DeadLetterRow {
  id: string;
  stream: string;
  group_name: string;
  original_id: string;
  tenant_id: string | null;
  envelope: string;
  error: string;
  attempts: number;
  consumer: string;
  failed_at: string | Date;
}
