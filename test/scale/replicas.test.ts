// Replicas proven, not assumed (issue 14): 2 gateways, 2 replicas of each subgraph, 3 workers per
// consumer group and 2 outbox relays, all real processes behind round-robin balancers; under write
// load one replica of each kind is SIGKILLed and started again. Correctness only: timings are
// bench:scale's.
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { type Balancer, startBalancer } from '#testing/scale/balancer.ts';
import { checkFailover, type FailoverReport } from '#testing/scale/checks.ts';
import { runFailover } from '#testing/scale/failover.ts';
import { SCALE_REDIS_URL, type ScalePlatform, startScalePlatform } from '#testing/scale/platform.ts';
import { createTestDatabase, type TestDatabase, testDatabaseKind } from '#testing/test-database.ts';
import { SUBGRAPH_NAMES } from '../../gateway/src/config.ts';
import { LIVE_FANOUT_GROUP } from '../../gateway/src/live/fanout-consumer.ts';
import { consumers as agentConsumers } from '../../subgraphs/agent/src/consumers/index.ts';
import { consumers as governanceConsumers } from '../../subgraphs/governance/src/consumers/index.ts';
import { consumers as knowledgeConsumers } from '../../subgraphs/knowledge/src/consumers/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const GROUPS = [...agentConsumers, ...governanceConsumers, ...knowledgeConsumers].map((c) => c.group);

/** A backend that answers its name, and 200 or 503 on /ready as told. */
async function backend(name: string): Promise<{ server: Server; origin: string; ready: boolean }> {
  const state = { server: undefined as unknown as Server, origin: '', ready: true };
  state.server = createServer((req, res) => {
    if (req.url === '/ready') return res.writeHead(state.ready ? 200 : 503).end();
    res.end(name);
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.origin = `http://127.0.0.1:${(state.server.address() as { port: number }).port}`;
  return state;
}

describe('the round-robin balancer of the replica tests', () => {
  let balancer: Balancer | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await balancer?.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('alternates between healthy backends, leaves out one whose /ready fails, and retries a refused connection elsewhere', async () => {
    const a = await backend('a');
    const b = await backend('b');
    servers.push(a.server, b.server);
    balancer = await startBalancer({ name: 'test', backends: [a.origin, b.origin], healthIntervalMs: 50 });
    const get = async () => (await fetch(`${balancer!.origin}/x`)).text();
    expect([await get(), await get(), await get(), await get()].sort()).toEqual(['a', 'a', 'b', 'b']);

    b.ready = false;
    await new Promise((r) => setTimeout(r, 300));
    expect([await get(), await get(), await get()]).toEqual(['a', 'a', 'a']);

    b.ready = true;
    await new Promise((r) => setTimeout(r, 300));
    // a goes away without the balancer knowing yet: its requests are refused and go to b
    a.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
    servers.splice(servers.indexOf(a.server), 1);
    expect([await get(), await get(), await get()]).toEqual(['b', 'b', 'b']);
    expect(balancer.failures.badGateway).toBe(0);
    expect(balancer.backends[0]!.healthy).toBe(false);
  });

  it('tries an unready backend rather than none, and answers 503 with a clear message when none accepts', async () => {
    const a = await backend('a');
    a.ready = false;
    servers.push(a.server);
    balancer = await startBalancer({ name: 'lonely', backends: [a.origin], healthIntervalMs: 50 });
    await new Promise((r) => setTimeout(r, 300));
    expect(balancer.backends[0]!.healthy).toBe(false);
    expect(await (await fetch(`${balancer.origin}/x`)).text()).toBe('a');
    a.server.closeAllConnections();
    await new Promise((r) => a.server.close(r));
    servers.splice(0);
    const res = await fetch(`${balancer.origin}/graphql`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('lonely: no backend accepted the request');
  });
});

// Real processes on the native server only: PGlite's one session cannot serve 22 processes.
const onServer = testDatabaseKind() === 'postgres' ? describe : undefined;

onServer?.('every service as replicas, one of each kind SIGKILLed under load', () => {
  let db: TestDatabase;
  let platform: ScalePlatform | undefined;
  let report: FailoverReport;
  let inFlightByKill: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    platform = await startScalePlatform({
      db,
      root: ROOT,
      subgraphs: SUBGRAPH_NAMES,
      groups: GROUPS,
      gateways: 2,
      subgraphReplicas: 2,
      workersPerGroup: 3,
      relays: 2,
      onProgress: (m) => process.stderr.write(`scale: ${m}\n`),
    });
    const run = await runFailover({
      cluster: platform.cluster,
      token: platform.token,
      connections: 4,
      warmupMs: 3_000,
      gapMs: 300,
      cooldownMs: 2_000,
      onProgress: (m) => process.stderr.write(`scale: ${m}\n`),
    });
    inFlightByKill = run.kills.map((k) => `${k.replica}: ${k.inFlight}`).join(', ');
    process.stderr.write(
      `scale: load ${run.load.requests} requests, ${run.load.errors} errors ${JSON.stringify(run.load.samples)}; balancers ${JSON.stringify(run.balancers)}\n`,
    );
    report = await checkFailover(run, {
      db,
      redisUrl: SCALE_REDIS_URL,
      streamPrefix: platform.streamPrefix,
      graphql: (q, v) => platform!.graphql(q, v),
      settleMs: 90_000,
      ignoreGroups: [LIVE_FANOUT_GROUP],
    });
    process.stderr.write(
      `scale: ${report.acknowledged} writes acknowledged, ${report.lostWrites.length} lost; ` +
        `client errors ${report.clientErrors} (in flight at the kills: ${report.inFlightAtKills}; ${inFlightByKill}); ` +
        `${JSON.stringify(report.groups)}; audit ${JSON.stringify(report.audit)}; ` +
        `survivor ${JSON.stringify(report.survivor)}; reconnecting ${JSON.stringify(report.reconnecting)}\n`,
    );
  }, 1_200_000);
  afterAll(async () => {
    await platform?.stop();
    await db?.close();
  }, 120_000);

  it('loses no acknowledged write, and every acknowledged task ran its step', () => {
    expect(report.acknowledged).toBeGreaterThan(0);
    expect(report.lostWrites).toEqual([]);
    expect(report.unfinished).toBe(0);
  });

  it('loses no event and handles none twice, in every consumer group that had events', () => {
    expect(report.groups.find((g) => g.group === 'agent-runner')?.events).toBeGreaterThan(0);
    for (const group of report.groups) {
      expect({
        group: group.group,
        lost: group.lost,
        twice: group.twice,
        deadLetters: group.deadLetters,
      }).toEqual({
        group: group.group,
        lost: 0,
        twice: 0,
        deadLetters: 0,
      });
      expect(group.processed).toBeGreaterThanOrEqual(group.events);
    }
  });

  it('keeps the audit chain verifiable', () => {
    expect(report.audit).toEqual({ ok: true, checked: expect.any(Number), problem: null });
    expect(report.audit.checked).toBeGreaterThan(report.acknowledged);
  });

  it('shows clients errors only for requests in flight on the killed replicas', () => {
    expect(report.clientErrors).toBeLessThanOrEqual(report.inFlightAtKills);
  });

  it('keeps the surviving gateway’s subscriber receiving; the killed one’s reconnects and catches up with a query', () => {
    expect(report.survivor.connections).toBe(1);
    expect(report.survivor.receivedAfterKill).toBeGreaterThan(0);
    expect(report.reconnecting.connections).toBeGreaterThan(1);
    expect(report.reconnecting.receivedAfterReconnect).toBeGreaterThan(0);
    expect(report.reconnecting.caughtUp).toBe(report.acknowledged);
  });
});
