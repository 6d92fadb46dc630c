/** A connection in a transaction (node-postgres `ClientBase`-compatible). */
export interface SqlClient {
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

/** One message read from a stream by a consumer of a group. */
export interface Delivery {
  stream: string;
  /** The entry id in its stream (Redis `ms-seq`, or the embedded transport's sequence). */
  id: string;
  /** The serialized event envelope. */
  body: string;
  /** How many times the group has delivered this entry, this delivery included (from 1). */
  deliveryCount: number;
}

/** A message to append: the stream (topic), its tenant (for dead-letter filters) and body. */
export interface AppendEntry {
  stream: string;
  tenantId: string;
  body: string;
}

/** Why and where a delivery failed for good. */
export interface DeadLetterInfo {
  group: string;
  consumer: string;
  error: string;
  attempts: number;
  tenantId: string | undefined;
}

/** A dead-lettered message with its failure record. */
export interface DeadLetter {
  /** Id of the record in the topic's dead-letter stream. */
  id: string;
  stream: string;
  group: string;
  originalId: string;
  tenantId: string | undefined;
  body: string;
  error: string;
  attempts: number;
  consumer: string;
  failedAt: string;
}

/** Filters and paging of {@link StreamTransport.listDeadLetters}. */
export interface DeadLetterQuery {
  stream: string;
  tenantId?: string;
  /** Only records after this id (paging). */
  after?: string;
  limit: number;
}

/** Counters of one stream as seen by one group. */
export interface StreamGroupStats {
  stream: string;
  group: string;
  length: number;
  pending: number;
  /** Entries not yet delivered to the group. */
  lag: number;
  /** Age of the oldest delivered-but-unacknowledged entry; 0 when none. */
  oldestPendingMs: number;
  deadLetters: number;
}

/**
 * Redis-Streams-shaped transport: appends, consumer groups, pending entries and their reclaim,
 * acknowledgements, dead-letter streams. Implemented by Redis Streams and by the embedded
 * Postgres transport; one contract suite tests both.
 */
export interface StreamTransport {
  readonly kind: 'redis' | 'postgres';
  /** Appends entries in order (approximate MAXLEN trimming); returns their ids. */
  append(entries: AppendEntry[]): Promise<string[]>;
  /**
   * Appends within a transaction the caller holds on the same database (the embedded transport):
   * the relay then moves outbox rows to streams atomically, and on a single-session database
   * (PGlite) it does not wait on itself.
   */
  appendInTransaction?(client: SqlClient, entries: AppendEntry[]): Promise<string[]>;
  /** Creates the group on the stream if absent, starting at the beginning of the stream. */
  ensureGroup(stream: string, group: string): Promise<void>;
  /** New entries for `consumer` (XREADGROUP `>`), waiting up to `blockMs` when there are none. */
  read(
    group: string,
    consumer: string,
    streams: string[],
    count: number,
    blockMs: number,
  ): Promise<Delivery[]>;
  /** Takes over entries pending longer than `minIdleMs` (XAUTOCLAIM); their delivery count goes up. */
  claimStale(
    group: string,
    consumer: string,
    stream: string,
    minIdleMs: number,
    count: number,
  ): Promise<Delivery[]>;
  /**
   * Marks entries this consumer still works on as fresh (resets their idle time, XCLAIM JUSTID), so
   * another consumer's {@link claimStale} does not take them over; their delivery count stays.
   */
  touch(group: string, consumer: string, stream: string, ids: readonly string[]): Promise<void>;
  /** Acknowledges handled entries of one stream (XACK). */
  ack(group: string, stream: string, ids: readonly string[]): Promise<void>;
  /** Moves a pending entry to the stream's dead-letter stream and acknowledges it, atomically. */
  deadLetter(delivery: Delivery, info: DeadLetterInfo): Promise<void>;
  listDeadLetters(query: DeadLetterQuery): Promise<DeadLetter[]>;
  getDeadLetter(stream: string, id: string): Promise<DeadLetter | undefined>;
  /** Appends the dead letter's body to its stream again and removes the record; returns the new id. */
  replayDeadLetter(stream: string, id: string): Promise<string | undefined>;
  /** Removes a dead letter; false if it did not exist. */
  discardDeadLetter(stream: string, id: string): Promise<boolean>;
  /** Streams (topics) that have a consumer group or dead letters, sorted. */
  streams(): Promise<string[]>;
  /** Groups that exist on a stream. */
  groups(stream: string): Promise<string[]>;
  stats(stream: string, group: string): Promise<StreamGroupStats>;
  /** Deletes the streams, groups and dead letters (tests and benchmarks). */
  destroy(streams: string[]): Promise<void>;
  close(): Promise<void>;
}
