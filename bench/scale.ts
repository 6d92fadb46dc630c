// npm run bench:scale [-- --seconds 15 --connections 16]
// The platform as replicas on the native PostgreSQL and Redis (a fresh database): 2 gateways,
// 2 replicas of each subgraph, 3 workers per consumer group, 2 outbox relays, round-robin
// balancers with health checks. Under write load one replica of each kind is SIGKILLed and
// restarted (what was lost, handled twice, errors vs. requests in flight, subscriptions), then
// the write throughput through 1 and through 2 gateway replicas. Prints figures; asserts nothing.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SUBGRAPH_NAMES } from '../gateway/src/config.ts';
import { LIVE_FANOUT_GROUP } from '../gateway/src/live/fanout-consumer.ts';
import { consumers as agentConsumers } from '../subgraphs/agent/src/consumers/index.ts';
import { consumers as governanceConsumers } from '../subgraphs/governance/src/consumers/index.ts';
import { consumers as knowledgeConsumers } from '../subgraphs/knowledge/src/consumers/index.ts';
import { startBalancer } from '../testing/scale/balancer.ts';
import { checkFailover } from '../testing/scale/checks.ts';
import { runFailover } from '../testing/scale/failover.ts';
import { type LoadRun, runLoad } from '../testing/scale/load.ts';
import { SCALE_REDIS_URL, startScalePlatform } from '../testing/scale/platform.ts';
import { createTestDatabase } from '../testing/test-database.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '16' },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
if (
  !(seconds >= 1 && seconds <= 600) ||
  !(Number.isInteger(connections) && connections >= 1 && connections <= 512)
) {
  process.stderr.write('--seconds must be 1 to 600 and --connections a whole number from 1 to 512\n');
  process.exit(2);
}

const log = (message: string) => process.stderr.write(`bench:scale: ${message}\n`);
const groups = [...agentConsumers, ...governanceConsumers, ...knowledgeConsumers].map((c) => c.group);

log('creating a database on the native PostgreSQL');
const db = await createTestDatabase('postgres');
const platform = await startScalePlatform({
  db,
  root: join(import.meta.dirname, '..'),
  subgraphs: SUBGRAPH_NAMES,
  groups,
  gateways: 2,
  subgraphReplicas: 2,
  workersPerGroup: 3,
  relays: 2,
  onProgress: log,
}).catch(async (error: unknown) => {
  await db.close();
  throw error;
});

try {
  const { cluster } = platform;
  log(`failover: ${connections} connections of createTask through ${cluster.front.origin}`);
  const run = await runFailover({
    cluster,
    token: platform.token,
    connections,
    warmupMs: 5_000,
    gapMs: 1_000,
    cooldownMs: 5_000,
    onProgress: log,
  });
  log(`load: ${run.load.requests} requests, ${run.load.errors} errors ${JSON.stringify(run.load.samples)}`);
  log('waiting for every task and stream to settle, then checking');
  const report = await checkFailover(run, {
    db,
    redisUrl: SCALE_REDIS_URL,
    streamPrefix: platform.streamPrefix,
    graphql: (q, v) => platform.graphql(q, v),
    settleMs: 180_000,
    ignoreGroups: [LIVE_FANOUT_GROUP],
  });

  const token = await platform.token();
  // One gateway behind a balancer of its own, so both rows pay the same proxy hop.
  const single = await startBalancer({ name: 'one-gateway', backends: [cluster.gateways[1]!.origin] });
  const throughput: [string, LoadRun][] = [];
  try {
    for (const [label, url] of [
      ['1 gateway', single.origin],
      ['2 gateways', cluster.front.origin],
    ] as const) {
      log(`throughput: ${label}, ${seconds} s`);
      throughput.push([label, await runLoad({ url, token, connections, label: 'throughput', seconds })]);
    }
  } finally {
    await single.close();
  }

  const lines = [
    '',
    `bench:scale — ${cluster.gateways.length} gateways, ${Object.values(cluster.subgraphs)[0]!.length} replicas of each of ${SUBGRAPH_NAMES.join(', ')}, ` +
      `${Object.values(cluster.workers)[0]!.length} workers per group (${groups.join(', ')}), ${cluster.relays.length} relays; PostgreSQL ${db.kind}, Redis`,
    '',
    '| killed (SIGKILL, then restarted) | requests on it when it died | back in (s) |',
    '|---|---:|---:|',
    ...run.kills.map((k) => `| ${k.replica} | ${k.inFlight} | ${(k.backMs / 1000).toFixed(1)} |`),
    '',
    '| failover | count |',
    '|---|---:|',
    `| writes acknowledged (createTask) | ${report.acknowledged} |`,
    `| acknowledged writes lost | ${report.lostWrites.length} |`,
    `| acknowledged tasks not COMPLETED | ${report.unfinished} |`,
    ...report.groups.map(
      (g) =>
        `| ${g.group}: events / handled / lost / twice / dead letters | ${g.events} / ${g.processed} / ${g.lost} / ${g.twice} / ${g.deadLetters} |`,
    ),
    `| client errors | ${report.clientErrors} |`,
    `| requests on the killed replicas when they died | ${report.inFlightAtKills} |`,
    `| balancer answers 502 / 503 / retried elsewhere | ${Object.values(run.balancers).reduce((s, b) => s + b.badGateway, 0)} / ${Object.values(run.balancers).reduce((s, b) => s + b.unavailable, 0)} / ${Object.values(run.balancers).reduce((s, b) => s + b.retried, 0)} |`,
    `| audit chain verifies (rows checked) | ${report.audit.ok ? 'yes' : `NO: ${report.audit.problem}`} (${report.audit.checked}) |`,
    `| surviving gateway's subscriber: connections / events after the kill | ${report.survivor.connections} / ${report.survivor.receivedAfterKill} |`,
    `| killed gateway's subscriber: connections / events after reconnecting / pushes missed / COMPLETED by its catch-up query | ${report.reconnecting.connections} / ${report.reconnecting.receivedAfterReconnect} / ${report.reconnecting.missed} / ${report.reconnecting.caughtUp} |`,
    '',
    `| gateways | tasks created/s | p50 ms | p99 ms | errors |`,
    '|---|---:|---:|---:|---:|',
    ...throughput.map(
      ([label, r]) => `| ${label} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} |`,
    ),
    '',
    `${connections} connections, ${seconds} s each; on a machine of ${(await import('node:os')).availableParallelism()} cores every replica shares them, ` +
      'so the ratio shows the cost of coordination, not raw scaling.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  log('stopping');
  await platform.stop();
  await db.close();
}
