import { hostname } from 'node:os';
import type { Actor } from '#events/catalogue.ts';
import type { EventsConfig } from '#events/config.ts';
import { loadWorkerIdentity } from '#events/consumer/service-actor.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { createTransport } from '#events/transport/create-transport.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { PlatformConfig } from '#kernel/config.ts';
import { createOrm } from '#kernel/db/orm.ts';
import type { Logger } from '#kernel/logger.ts';
import { LIVE_FANOUT_GROUP, liveFanoutConsumer } from './fanout-consumer.ts';
import type { LivePubSub } from './live-pubsub.ts';

/** Events the gateway pushes at once; each push is one pub/sub publish plus one processed-id insert. */
export const DEFAULT_LIVE_FANOUT_CONCURRENCY = 4;

/** Options of {@link startLiveFanout}. */
export interface LiveFanoutOptions {
  /** The application role's URL (the worker records processed event ids there). */
  databaseUrl: string;
  /** Where the domain events are read; closed by the caller. */
  transport: StreamTransport;
  /** Where they are pushed: this gateway's pub/sub (in-process) or Redis pub/sub (every replica). */
  live: LivePubSub;
  /** The consumer's verified service identity per tenant (the actor of its audit records). */
  actorFor: (tenantId: string) => Promise<Actor>;
  logger: Logger;
  /** Consumer group; `live-fanout` unless a test needs its own. */
  group?: string;
  concurrency?: number;
  claimIdleMs?: number;
  retryBackoffMs?: number;
}

/** A running fan-out consumer. */
export interface RunningLiveFanout {
  readonly worker: EventWorker;
  /** Stops consuming (in-flight pushes finish) and closes its database pool. */
  close(): Promise<void>;
}

/**
 * Runs the `live-fanout` consumer group in this process: task, approval and kill-switch events from
 * the event bus are pushed to `live`, which feeds the graphql-ws subscriptions. Replicas share the
 * group; with Redis pub/sub every replica still receives every push.
 */
export async function startLiveFanout(options: LiveFanoutOptions): Promise<RunningLiveFanout> {
  const concurrency = options.concurrency ?? DEFAULT_LIVE_FANOUT_CONCURRENCY;
  const consumer = liveFanoutConsumer({ live: options.live, group: options.group });
  const orm = await createOrm({ url: options.databaseUrl, entities: [], poolMax: concurrency + 1 });
  try {
    const worker = new EventWorker({
      orm,
      transport: options.transport,
      consumer,
      consumerName: `gateway-${hostname()}-${process.pid}`,
      concurrency,
      actorFor: options.actorFor,
      // Left out when absent: an explicit undefined would override the worker's defaults.
      ...(options.claimIdleMs === undefined ? {} : { claimIdleMs: options.claimIdleMs }),
      ...(options.retryBackoffMs === undefined ? {} : { retryBackoffMs: options.retryBackoffMs }),
      logger: options.logger,
    });
    await worker.start();
    return {
      worker,
      async close() {
        await worker.close();
        await orm.close();
      },
    };
  } catch (error) {
    await orm.close();
    throw error;
  }
}

/** The service name the gateway's fan-out consumer acts as (its own verified app identity). */
export const LIVE_FANOUT_SERVICE_NAME = 'widgetdc-live-fanout';

/**
 * The gateway's fan-out as configured: absent without DATABASE_URL (the consumer records processed
 * ids in the database); the transport is Redis Streams with REDIS_URL, else the Postgres one. Throws
 * ConfigError when the service identity cannot be proven.
 */
export async function startConfiguredLiveFanout(
  config: PlatformConfig,
  events: EventsConfig,
  live: LivePubSub,
  logger: Logger,
): Promise<RunningLiveFanout | undefined> {
  const databaseUrl = config.database.url;
  if (!databaseUrl) return undefined;
  const { identity } = await loadWorkerIdentity(config, LIVE_FANOUT_SERVICE_NAME);
  const transport = createTransport(events, databaseUrl);
  try {
    const fanout = await startLiveFanout({
      databaseUrl,
      transport,
      live,
      actorFor: identity.actorFor,
      logger,
      claimIdleMs: events.claimIdleMs,
      retryBackoffMs: events.retryBackoffMs,
    });
    logger.info(`group ${LIVE_FANOUT_GROUP} on ${transport.kind} pushes to ${live.kind} pub/sub`);
    return {
      worker: fanout.worker,
      async close() {
        await fanout.close();
        await transport.close();
      },
    };
  } catch (error) {
    await transport.close();
    throw error;
  }
}
