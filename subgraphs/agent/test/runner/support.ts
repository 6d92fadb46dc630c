import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { ConsumerDefinition } from '#events/consumer/consumer.ts';
import { EventWorker } from '#events/consumer/worker.ts';
import { OutboxRelay } from '#events/producer/relay.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import type { TestIssuer } from '#testing/test-identity.ts';
import { REDIS_URL, testWorkerIdentity } from '../../../../events/test/support.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');

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

/** What a runner process needs to join the group of a test. */
export interface RunnerProcessOptions {
  /** The test database's application URL. */
  databaseUrl: string;
  /** The test's event stream prefix. */
  prefix: string;
  /** While this file holds a `test.effect` label, that call hangs after its effect (test-tools.ts). */
  hangFile: string;
  /** The worker's service identity (workerIdentityEnv). */
  identityEnv: Record<string, string>;
  /** Further variables, e.g. LLM_* for the planner. */
  env?: Record<string, string>;
}

/**
 * Spawns an `agent-runner` worker process (`scripts/worker.ts`) with the test tools; tracked in
 * `children` until it exits, so a suite can kill what is left.
 */
export function spawnRunner(options: RunnerProcessOptions, children: Set<ChildProcess>): ChildProcess {
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'node'),
    [
      'scripts/worker.ts',
      '--group',
      'agent-runner',
      '--concurrency',
      '2',
      '--consumers',
      join(ROOT, 'subgraphs/agent/test/fixtures/test-tools.ts'),
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        DATABASE_URL: options.databaseUrl,
        DB_POOL_MAX: '4',
        REDIS_URL,
        EVENTS_STREAM_PREFIX: options.prefix,
        EVENTS_CLAIM_IDLE_MS: '1500',
        EVENTS_RELAY_POLL_MS: '100',
        EVENTS_RETRY_BACKOFF_MS: '20',
        TEST_HANG_FILE: options.hangFile,
        LOG_LEVEL: 'error',
        ...options.identityEnv,
        ...options.env,
      },
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
