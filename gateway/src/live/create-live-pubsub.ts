import { createInProcessPubSub } from './in-process-pubsub.ts';
import type { LivePubSub } from './live-pubsub.ts';
import { createRedisPubSub } from './redis-pubsub.ts';

/** Redis pub/sub when a Redis URL is configured (several gateway replicas), else in-process. */
export async function createLivePubSub(options: { redisUrl?: string; prefix?: string }): Promise<LivePubSub> {
  if (options.redisUrl) return createRedisPubSub({ url: options.redisUrl, prefix: options.prefix });
  return createInProcessPubSub();
}
