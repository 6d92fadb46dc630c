// Child process of bench/events.ts for (b): an outbox relay and a worker with a no-op handler (the
// processed-id ledger and the audit record still written in its tenant transaction), as a real deployment runs them
// apart from the publishing service. Reports publish-to-handled latencies to the parent over IPC.

import { defineConsumer } from '#events/consumer/consumer.ts';
import { verifiedWorkerIdentity } from '#events/consumer/service-actor.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { createDevServiceTokenProvider } from '#kernel/auth/service-identity.ts';
import { createTokenVerifier } from '#kernel/auth/token-verifier.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { SampleUploaded } from '#testing/sample-events.ts';
import { startTestIssuer } from '#testing/test-identity.ts';

const { BENCH_DB_URL, BENCH_REDIS_URL, BENCH_PREFIX, BENCH_CONCURRENCY, BENCH_AUDITED, BENCH_MAX_BATCH } =
  process.env;
const orm = await createOrm({ url: BENCH_DB_URL!, entities: [], poolMax: Number(BENCH_CONCURRENCY) + 2 });
const transport = new RedisStreamTransport({ url: BENCH_REDIS_URL!, prefix: BENCH_PREFIX! });
const relay = new OutboxRelay({ url: BENCH_DB_URL!, transport, pollMs: 100 });
let latencies: number[] = [];
// A verified service identity, as a deployed worker has (its own dev issuer: the bench has no platform).
const issuer = await startTestIssuer();
const identity = verifiedWorkerIdentity(
  createDevServiceTokenProvider({
    service: 'bench-worker',
    keys: issuer.keys,
    issuer: issuer.issuer.issuer,
    audience: issuer.audience,
  }),
  createTokenVerifier(issuer.auth),
);
const worker = new EventWorker({
  orm,
  transport,
  consumerName: `bench-${process.pid}`,
  concurrency: Number(BENCH_CONCURRENCY),
  actorFor: identity.actorFor,
  consumer: defineConsumer({
    group: 'bench',
    events: [SampleUploaded],
    // A no-op handler changes no tenant data, so by default it writes no audit record;
    // BENCH_AUDITED=1 adds one per event, as a consumer with a real effect does.
    audited: BENCH_AUDITED === '1',
    // A fast handler, batched like the platform's own fast consumers (live-fanout).
    maxBatch: Number(BENCH_MAX_BATCH),
    async handle(event) {
      latencies.push(Date.now() - Date.parse(event.occurredAt));
    },
  }),
});
relay.start();
await worker.start();
const flush = setInterval(() => {
  if (latencies.length === 0) return;
  process.send?.({ latencies });
  latencies = [];
}, 50);
process.send?.({ ready: true });
process.on('message', (m: { report?: boolean }) => {
  if (m.report) {
    process.send?.({
      report: {
        transactions: worker.counters.transactions,
        handled: worker.counters.handled,
        passes: relay.passes,
        relayed: relay.relayed,
      },
    });
  }
});
process.once('disconnect', () => {
  clearInterval(flush);
  void (async () => {
    await worker.close();
    await relay.close();
    await transport.close();
    await orm.close();
    await issuer.close();
    process.exit(0);
  })();
});
