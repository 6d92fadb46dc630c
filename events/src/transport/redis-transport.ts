import { Redis } from 'ioredis';
import { DEFAULT_STREAM_MAXLEN, DEFAULT_STREAM_PREFIX } from '../defaults.ts';
import type {
  AppendEntry,
  DeadLetter,
  DeadLetterInfo,
  DeadLetterQuery,
  Delivery,
  StreamGroupStats,
  StreamTransport,
} from './transport.ts';

/** Options of {@link RedisStreamTransport}. */
export interface RedisTransportOptions {
  url: string;
  prefix?: string;
  maxLen?: number;
}

type Fields = string[];
type RawEntry = [id: string, fields: Fields | null];

/** Redis Streams: XADD, XREADGROUP, XACK, XAUTOCLAIM and one dead-letter stream per topic. */
export class RedisStreamTransport implements StreamTransport {
  readonly kind = 'redis' as const;
  readonly #redis: Redis;
  #blocking: Redis | undefined;
  readonly #prefix: string;
  readonly #maxLen: number;
  readonly #acks = new Map<string, { ids: string[]; done: Promise<void> }>();

  constructor(options: RedisTransportOptions) {
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: 2, lazyConnect: false });
    this.#redis.on('error', () => {}); // reconnects on its own; callers see failed commands
    this.#prefix = options.prefix ?? DEFAULT_STREAM_PREFIX;
    this.#maxLen = options.maxLen ?? DEFAULT_STREAM_MAXLEN;
  }

  #key(stream: string): string {
    return `${this.#prefix}${stream}`;
  }

  #dlq(stream: string): string {
    return `${this.#prefix}dlq:${stream}`;
  }

  #stream(key: string): string {
    return key.slice(this.#prefix.length);
  }

  async append(entries: AppendEntry[]): Promise<string[]> {
    if (entries.length === 0) return [];
    // Fail fast while disconnected: the relay holds a database transaction around this call.
    if (this.#redis.status !== 'ready') throw new Error(`Redis is not connected (${this.#redis.status})`);
    const pipeline = this.#redis.pipeline();
    for (const e of entries) {
      pipeline.xadd(
        this.#key(e.stream),
        'MAXLEN',
        '~',
        this.#maxLen,
        '*',
        'tenant',
        e.tenantId,
        'body',
        e.body,
      );
    }
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, id]) => {
      if (error) throw error;
      return id as string;
    });
  }

  async ensureGroup(stream: string, group: string): Promise<void> {
    try {
      await this.#redis.xgroup('CREATE', this.#key(stream), group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  async read(
    group: string,
    consumer: string,
    streams: string[],
    count: number,
    blockMs: number,
  ): Promise<Delivery[]> {
    if (!this.#blocking) {
      this.#blocking = this.#redis.duplicate();
      this.#blocking.on('error', () => {});
    }
    const keys = streams.map((s) => this.#key(s));
    const reply = (await this.#blocking.xreadgroup(
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...keys,
      ...keys.map(() => '>'),
    )) as [string, RawEntry[]][] | null;
    const deliveries: Delivery[] = [];
    for (const [key, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        if (fields)
          deliveries.push({ stream: this.#stream(key), id, body: field(fields, 'body'), deliveryCount: 1 });
      }
    }
    return deliveries;
  }

  async claimStale(
    group: string,
    consumer: string,
    stream: string,
    minIdleMs: number,
    count: number,
  ): Promise<Delivery[]> {
    const key = this.#key(stream);
    const [, entries] = (await this.#redis.xautoclaim(
      key,
      group,
      consumer,
      minIdleMs,
      '0-0',
      'COUNT',
      count,
    )) as [string, RawEntry[], string[]];
    const live = entries.filter(([, fields]) => fields !== null);
    if (live.length === 0) return [];
    const pipeline = this.#redis.pipeline();
    for (const [id] of live) pipeline.xpending(key, group, id, id, 1);
    const counts = ((await pipeline.exec()) ?? []).map(([, r]) =>
      Number((r as [string, string, number, number][])[0]?.[3] ?? 1),
    );
    return live.map(([id, fields], i) => ({
      stream,
      id,
      body: field(fields!, 'body'),
      deliveryCount: counts[i] ?? 1,
    }));
  }

  async touch(group: string, consumer: string, stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // JUSTID: the idle time is reset and the delivery count is not raised.
    await this.#redis.xclaim(this.#key(stream), group, consumer, 0, ...ids, 'JUSTID');
  }

  /**
   * Acknowledgements made in the same tick go out as one XACK per stream and group; each caller's
   * promise settles when that command has.
   */
  ack(group: string, stream: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    const key = `${group}\u0000${stream}`;
    let batch = this.#acks.get(key);
    if (!batch) {
      const created = { ids: [] as string[], done: undefined as unknown as Promise<void> };
      created.done = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.#acks.delete(key);
          this.#redis.xack(this.#key(stream), group, ...created.ids).then(() => resolve(), reject);
        });
      });
      this.#acks.set(key, created);
      batch = created;
    }
    batch.ids.push(...ids);
    return batch.done;
  }

  async deadLetter(delivery: Delivery, info: DeadLetterInfo): Promise<void> {
    const result = await this.#redis
      .multi()
      .xadd(
        this.#dlq(delivery.stream),
        'MAXLEN',
        '~',
        this.#maxLen,
        '*',
        'group',
        info.group,
        'originalId',
        delivery.id,
        'tenant',
        info.tenantId ?? '',
        'body',
        delivery.body,
        'error',
        info.error,
        'attempts',
        String(info.attempts),
        'consumer',
        info.consumer,
        'failedAt',
        new Date().toISOString(),
      )
      .xack(this.#key(delivery.stream), info.group, delivery.id)
      .exec();
    for (const [error] of result ?? []) if (error) throw error;
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]> {
    const found: DeadLetter[] = [];
    let start = query.after ? `(${query.after}` : '-';
    for (;;) {
      const page = (await this.#redis.xrange(
        this.#dlq(query.stream),
        start,
        '+',
        'COUNT',
        200,
      )) as RawEntry[];
      for (const [id, fields] of page) {
        const letter = toDeadLetter(query.stream, id, fields ?? []);
        if (!query.tenantId || letter.tenantId === query.tenantId) found.push(letter);
        if (found.length >= query.limit) return found;
      }
      if (page.length < 200) return found;
      start = `(${page.at(-1)![0]}`;
    }
  }

  async getDeadLetter(stream: string, id: string): Promise<DeadLetter | undefined> {
    const [entry] = (await this.#redis.xrange(this.#dlq(stream), id, id)) as RawEntry[];
    return entry ? toDeadLetter(stream, entry[0], entry[1] ?? []) : undefined;
  }

  async replayDeadLetter(stream: string, id: string): Promise<string | undefined> {
    const letter = await this.getDeadLetter(stream, id);
    if (!letter) return undefined;
    const result = await this.#redis
      .multi()
      .xadd(
        this.#key(stream),
        'MAXLEN',
        '~',
        this.#maxLen,
        '*',
        'tenant',
        letter.tenantId ?? '',
        'body',
        letter.body,
      )
      .xdel(this.#dlq(stream), id)
      .exec();
    for (const [error] of result ?? []) if (error) throw error;
    return result?.[0]?.[1] as string;
  }

  async discardDeadLetter(stream: string, id: string): Promise<boolean> {
    return (await this.#redis.xdel(this.#dlq(stream), id)) > 0;
  }

  async streams(): Promise<string[]> {
    const found = new Set<string>();
    const dlq = `${this.#prefix}dlq:`;
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(
        cursor,
        'MATCH',
        `${this.#prefix}*`,
        'COUNT',
        500,
        'TYPE',
        'stream',
      );
      cursor = next;
      for (const key of keys) found.add(key.startsWith(dlq) ? key.slice(dlq.length) : this.#stream(key));
    } while (cursor !== '0');
    return [...found].sort();
  }

  async groups(stream: string): Promise<string[]> {
    return (await this.#groupInfo(stream)).map((g) => String(g.name));
  }

  async #groupInfo(stream: string): Promise<Record<string, unknown>[]> {
    try {
      const raw = (await this.#redis.xinfo('GROUPS', this.#key(stream))) as unknown[][];
      return raw.map((flat) => {
        const info: Record<string, unknown> = {};
        for (let i = 0; i < flat.length; i += 2) info[String(flat[i])] = flat[i + 1];
        return info;
      });
    } catch (error) {
      if (String(error).includes('no such key')) return [];
      throw error;
    }
  }

  async stats(stream: string, group: string): Promise<StreamGroupStats> {
    const key = this.#key(stream);
    const [length, deadLetters, infos] = await Promise.all([
      this.#redis.xlen(key),
      this.#redis.xlen(this.#dlq(stream)),
      this.#groupInfo(stream),
    ]);
    const info = infos.find((g) => g.name === group);
    let oldestPendingMs = 0;
    const pending = Number(info?.pending ?? 0);
    if (pending > 0) {
      const summary = (await this.#redis.xpending(key, group)) as [
        number,
        string | null,
        string | null,
        unknown,
      ];
      const oldest = summary[1] ? Number(summary[1].split('-')[0]) : Date.now();
      oldestPendingMs = Math.max(0, Date.now() - oldest);
    }
    const lag = info ? (info.lag === null || info.lag === undefined ? length : Number(info.lag)) : length;
    return { stream, group, length, pending, lag, oldestPendingMs, deadLetters };
  }

  async destroy(streams: string[]): Promise<void> {
    if (streams.length === 0) return;
    await this.#redis.del(...streams.flatMap((s) => [this.#key(s), this.#dlq(s)]));
  }

  async close(): Promise<void> {
    this.#blocking?.disconnect();
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

function field(fields: Fields, name: string): string {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? '';
  return '';
}

function toDeadLetter(stream: string, id: string, fields: Fields): DeadLetter {
  const tenant = field(fields, 'tenant');
  return {
    id,
    stream,
    group: field(fields, 'group'),
    originalId: field(fields, 'originalId'),
    tenantId: tenant === '' ? undefined : tenant,
    body: field(fields, 'body'),
    error: field(fields, 'error'),
    attempts: Number(field(fields, 'attempts')),
    consumer: field(fields, 'consumer'),
    failedAt: field(fields, 'failedAt'),
  };
}
