// The platform as replicas: N gateways behind a balancer, N replicas of each subgraph behind a
// balancer of their own (the gateway routes to it), M workers per consumer group, the outbox
// relay in R of them. Every replica is a real process started from the entry points `npm start`
// and `npm run worker` run.
import { join } from 'node:path';
import { type Balancer, startBalancer } from './balancer.ts';
import { Replica } from './replica.ts';

/** The shape to start. */
export interface ClusterOptions {
  /** The repository's root (entry points are found below it). */
  root: string;
  /** Environment every replica shares (database, Redis, identity, prefixes). */
  env: NodeJS.ProcessEnv;
  subgraphs: readonly string[];
  groups: readonly string[];
  gateways: number;
  subgraphReplicas: number;
  workersPerGroup: number;
  relays: number;
  /** Events each worker handles at once. */
  workerConcurrency?: number;
  /** Called as replicas come up (progress). */
  onProgress?: (message: string) => void;
}

/** A running cluster. */
export interface Cluster {
  gateways: Replica[];
  /** The balancer in front of the gateways. */
  front: Balancer;
  subgraphs: Record<string, Replica[]>;
  /** The balancer in front of each subgraph's replicas. */
  subgraphBalancers: Record<string, Balancer>;
  workers: Record<string, Replica[]>;
  /** The workers that also relay the outbox. */
  relays: Replica[];
  /** Every replica. */
  all(): Replica[];
  /** The balancer a replica sits behind and its index there (none for a worker). */
  balancerOf(replica: Replica): { balancer: Balancer; index: number } | undefined;
  /** SIGKILLs `replica`, starts it again and waits until its balancer sends it traffic again. */
  restart(replica: Replica): Promise<void>;
  stop(): Promise<void>;
}

/** Starts every replica (subgraphs first, then workers, then gateways) and the balancers. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { root, env } = options;
  const progress = options.onProgress ?? (() => {});
  const started: Replica[] = [];
  const balancers: Balancer[] = [];
  const startAll = async (replicas: Replica[]) => {
    // Two at a time: start-up is CPU-bound and the machine is small and shared.
    for (let i = 0; i < replicas.length; i += 2) {
      await Promise.all(replicas.slice(i, i + 2).map((r) => r.start().then(() => started.push(r))));
    }
  };
  try {
    const subgraphs: Record<string, Replica[]> = {};
    const subgraphBalancers: Record<string, Balancer> = {};
    const subgraphEnv: NodeJS.ProcessEnv = { ...env };
    // Governance asks agent about tasks: through agent's balancer, which starts first.
    const order = [...options.subgraphs].sort(
      (a, b) => Number(a === 'governance') - Number(b === 'governance'),
    );
    for (const name of order) {
      const replicas = Array.from(
        { length: options.subgraphReplicas },
        (_, index) =>
          new Replica({
            kind: name,
            index,
            entry: join(root, 'subgraphs', name, 'src', 'index.ts'),
            env: subgraphEnv,
            port: { variable: `${name.toUpperCase()}_PORT` },
          }),
      );
      await startAll(replicas);
      subgraphs[name] = replicas;
      const balancer = await startBalancer({ name, backends: replicas.map((r) => r.origin) });
      balancers.push(balancer);
      subgraphBalancers[name] = balancer;
      subgraphEnv[`${name.toUpperCase()}_URL`] = `${balancer.origin}/graphql`;
      progress(`${name}: ${replicas.length} replicas behind ${balancer.origin}`);
    }

    const workers: Record<string, Replica[]> = {};
    const relays: Replica[] = [];
    const workerList: Replica[] = [];
    for (const group of options.groups) {
      workers[group] = Array.from({ length: options.workersPerGroup }, (_, index) => {
        // The relays sit in the last worker of the first groups, so killing worker #1 of a group
        // and killing a relay are different kills.
        const relay = relays.length < options.relays && index === options.workersPerGroup - 1;
        const replica = new Replica({
          kind: `worker ${group}`,
          index,
          entry: join(root, 'scripts', 'worker.ts'),
          args: [
            '--group',
            group,
            '--concurrency',
            String(options.workerConcurrency ?? 2),
            ...(relay ? [] : ['--no-relay']),
          ],
          env: subgraphEnv,
          port: { arg: '--probe-port' },
        });
        if (relay) relays.push(replica);
        workerList.push(replica);
        return replica;
      });
    }
    await startAll(workerList);
    progress(
      `workers: ${options.workersPerGroup} per group (${options.groups.join(', ')}), relays in ${relays.map((r) => r.name).join(', ')}`,
    );

    const gateways = Array.from(
      { length: options.gateways },
      (_, index) =>
        new Replica({
          kind: 'gateway',
          index,
          entry: join(root, 'gateway', 'src', 'index.ts'),
          env: subgraphEnv,
          port: { variable: 'GATEWAY_PORT' },
        }),
    );
    await startAll(gateways);
    const front = await startBalancer({ name: 'gateway', backends: gateways.map((g) => g.origin) });
    balancers.push(front);
    progress(`gateways: ${gateways.length} behind ${front.origin}`);

    const balancerOf = (replica: Replica) => {
      const list = replica.spec.kind === 'gateway' ? gateways : subgraphs[replica.spec.kind];
      const balancer = replica.spec.kind === 'gateway' ? front : subgraphBalancers[replica.spec.kind];
      const index = list?.indexOf(replica) ?? -1;
      return balancer && index >= 0 ? { balancer, index } : undefined;
    };
    return {
      gateways,
      front,
      subgraphs,
      subgraphBalancers,
      workers,
      relays,
      all: () => [...started],
      balancerOf,
      async restart(replica) {
        await replica.kill();
        await replica.start();
        const behind = balancerOf(replica);
        if (!behind) return;
        behind.balancer.replace(behind.index, replica.origin);
        const until = Date.now() + 60_000;
        while (!behind.balancer.backends[behind.index]!.healthy) {
          if (Date.now() > until)
            throw new Error(`${replica.name} never became healthy behind ${behind.balancer.name}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      },
      async stop() {
        for (const balancer of balancers) await balancer.close();
        await Promise.all(started.map((r) => r.stop()));
      },
    };
  } catch (error) {
    for (const balancer of balancers) await balancer.close().catch(() => {});
    await Promise.all(started.map((r) => r.kill()));
    throw error;
  }
}
