// Event-bus defaults as named constants, free of imports so config.ts can use them.

/** Default key prefix of streams (`<prefix><topic>`) and dead-letter streams (`<prefix>dlq:<topic>`). */
export const DEFAULT_STREAM_PREFIX = 'widgetdc:events:';
/** Default approximate MAXLEN of each stream and dead-letter stream. */
export const DEFAULT_STREAM_MAXLEN = 1_000_000;
/** Default idle time after which another consumer reclaims a pending entry. */
export const DEFAULT_CLAIM_IDLE_MS = 30_000;
/** Default first backoff between attempts; it doubles with each attempt. */
export const DEFAULT_RETRY_BACKOFF_MS = 200;
/** Rows a relay moves per transaction. */
export const DEFAULT_RELAY_BATCH = 500;
/** How often a relay looks at the outbox when no NOTIFY woke it. */
export const DEFAULT_RELAY_POLL_MS = 500;
