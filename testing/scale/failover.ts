// Under steady write load, one replica of each kind is SIGKILLed and started again; what the
// clients saw is kept for the checks (checks.ts).
import type { Cluster } from './cluster.ts';
import { type LoadRun, startLoad } from './load.ts';
import type { Replica } from './replica.ts';
import { type Subscriber, subscribe } from './subscriber.ts';

/** One SIGKILL. */
export interface Kill {
  replica: string;
  /**
   * Requests on it when it died: those its balancer had sent it and not seen answered at the SIGKILL,
   * and those sent to it after the signal until the balancer took it out (the kernel still accepts
   * connections of a process being killed). None for a worker.
   */
  inFlight: number;
  /** Milliseconds from the kill until it served again (ready behind its balancer). */
  backMs: number;
}

/** What the failover run saw. */
export interface FailoverRun {
  load: LoadRun;
  kills: Kill[];
  /** When the killed gateway went (ms since the epoch). */
  gatewayKilledAt: number;
  /** Subscribed on the gateway that survived. */
  survivor: Subscriber;
  /** Subscribed through the balancer on the gateway that was killed. */
  reconnecting: Subscriber;
  /** The balancers' own failure answers (502: failed after it was sent; retried: never reached a backend). */
  balancers: Record<string, { badGateway: number; unavailable: number; retried: number }>;
}

/** Options of {@link runFailover}. */
export interface FailoverOptions {
  cluster: Cluster;
  token: () => Promise<string>;
  connections: number;
  /** Load before the first kill. */
  warmupMs: number;
  /** Pause between kills. */
  gapMs: number;
  /** Load after every killed replica is back. */
  cooldownMs: number;
  onProgress?: (message: string) => void;
}

/** Killed replicas starting again at the same time, at most. */
const RESTARTS_AT_ONCE = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the load, the kills and the restarts; returns when the load has stopped. */
export async function runFailover(options: FailoverOptions): Promise<FailoverRun> {
  const { cluster } = options;
  const progress = options.onProgress ?? (() => {});
  // The reconnecting client goes through the balancer; the gateway it landed on is the one killed.
  const reconnecting = await subscribe('reconnecting', cluster.front.origin, options.token);
  const victimIndex = cluster.front.lastUpgrade ?? 0;
  const victim = cluster.gateways[victimIndex]!;
  const other = cluster.gateways.find((g) => g !== victim)!;
  const survivor = await subscribe('survivor', other.origin, options.token);

  const load = startLoad({
    url: cluster.front.origin,
    token: await options.token(),
    connections: options.connections,
    label: 'scale',
  });
  try {
    return await killAndRestart(options, { load, victim, survivor, reconnecting }, progress);
  } catch (error) {
    await load.stop().catch(() => {});
    await survivor.close().catch(() => {});
    await reconnecting.close().catch(() => {});
    throw error;
  }
}

async function killAndRestart(
  options: FailoverOptions,
  clients: {
    load: ReturnType<typeof startLoad>;
    victim: Replica;
    survivor: Subscriber;
    reconnecting: Subscriber;
  },
  progress: (message: string) => void,
): Promise<FailoverRun> {
  const { cluster } = options;
  const { load, victim, survivor, reconnecting } = clients;
  await sleep(options.warmupMs);
  progress(
    `load running (${load.acknowledged} tasks acknowledged, ${load.errors} errors${load.firstError ? `: ${load.firstError}` : ''}); killing one replica of each kind`,
  );

  const victims: Replica[] = [
    victim,
    ...Object.values(cluster.subgraphs).map((replicas) => replicas[0]!),
    ...Object.values(cluster.workers).map((replicas) => replicas[0]!),
    cluster.relays[0]!,
  ];
  const kills: Kill[] = [];
  let gatewayKilledAt = 0;
  // Restarts overlap, at most RESTARTS_AT_ONCE starting together: on a small machine ten replicas
  // starting at once starve each other, and one after another takes minutes.
  const restarts: Promise<void>[] = [];
  let starting = 0;
  const slot = async () => {
    while (starting >= RESTARTS_AT_ONCE) await sleep(50);
    starting++;
  };
  for (const replica of victims) {
    await slot();
    const behind = cluster.balancerOf(replica);
    const backend = behind?.balancer.backends[behind.index];
    const inFlight = backend?.inFlight ?? 0;
    const sentBefore = backend?.sent ?? 0;
    const at = Date.now();
    if (replica === victim) gatewayKilledAt = at;
    const kill: Kill = { replica: replica.name, inFlight, backMs: 0 };
    kills.push(kill);
    progress(`SIGKILL ${replica.name} (pid ${replica.pid}; ${inFlight} requests in flight on it)`);
    restarts.push(
      cluster.restart(replica).then(
        () => {
          starting--;
          const out = backend?.downs.find((d) => d.at >= at);
          kill.inFlight += out ? Math.max(0, out.sent - sentBefore) : 0;
          kill.backMs = Date.now() - at;
          progress(
            `${replica.name} back after ${(kill.backMs / 1000).toFixed(1)} s (${kill.inFlight} requests were on it when it died)`,
          );
        },
        (error: unknown) => {
          starting--;
          throw error;
        },
      ),
    );
    await sleep(options.gapMs);
  }
  await Promise.all(restarts);
  progress(`every killed replica is back; load goes on ${options.cooldownMs / 1000} s`);
  await sleep(options.cooldownMs);
  const run = await load.stop();
  const balancers = Object.fromEntries(
    [cluster.front, ...Object.values(cluster.subgraphBalancers)].map((b) => [b.name, { ...b.failures }]),
  );
  return { load: run, kills, gatewayKilledAt, survivor, reconnecting, balancers };
}
