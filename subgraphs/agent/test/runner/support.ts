import type { MikroORM } from '@mikro-orm/postgresql';
import type { ConsumerDefinition } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { TestIssuer } from '#testing/test-identity.ts';
import { testWorkerIdentity } from '../../../../events/test/support.ts';

/** An in-process worker of `consumer` and a relay, as `npm run worker` runs them. */
export async function startWorker(
  orm: MikroORM,
  transport: StreamTransport,
  consumer: ConsumerDefinition,
  issuer: TestIssuer,
  url: string,
): Promise<{ worker: EventWorker; relay: OutboxRelay; close(): Promise<void> }> {
  const relay = new OutboxRelay({ url, transport, pollMs: 50 });
  relay.start();
  const worker = new EventWorker({
    orm,
    transport,
    consumer,
    consumerName: `test-${consumer.group}`,
    concurrency: 4,
    actorFor: testWorkerIdentity(issuer, 'agent-runner').actorFor,
    retryBackoffMs: 20,
    blockMs: 100,
  });
  await worker.start();
  return {
    worker,
    relay,
    async close() {
      await worker.close();
      await relay.close();
    },
  };
}
