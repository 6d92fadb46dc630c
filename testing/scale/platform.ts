// The replicated platform on a test database and the machine's Redis: a test issuer whose keys the
// replicas share (as `npm start` gives its services theirs), stream keys unique to the run, a
// registered tenant, and the cluster of replicas.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import type { TestDatabase } from '../test-database.ts';
import { startTestIssuer, type TestIssuer } from '../test-identity.ts';
import { type Cluster, type ClusterOptions, startCluster } from './cluster.ts';

/** The machine's shared Redis. */
export const SCALE_REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The tenant the load writes in. */
export const SCALE_TENANT = 'scale';

/** A running replicated platform. */
export interface ScalePlatform {
  cluster: Cluster;
  issuer: TestIssuer;
  streamPrefix: string;
  /** A fresh Admin token of {@link SCALE_TENANT}. */
  token(): Promise<string>;
  /** A GraphQL request through the gateways' balancer as an Admin; GraphQL errors throw. */
  graphql<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** Options of {@link startScalePlatform}: the shape of the cluster. */
export type ScalePlatformOptions = Omit<ClusterOptions, 'env'> & { db: TestDatabase };

/** Starts the cluster on `db`. */
export async function startScalePlatform(options: ScalePlatformOptions): Promise<ScalePlatform> {
  const { db } = options;
  const issuer = await startTestIssuer();
  const dataDir = await mkdtemp(join(tmpdir(), 'wtdc-scale-'));
  await mkdir(join(dataDir, 'dev-issuer'), { mode: 0o700 });
  await writeFile(join(dataDir, 'dev-issuer', 'keys.json'), JSON.stringify(issuer.keys), { mode: 0o600 });
  const streamPrefix = `wtdc-scale:${randomBytes(5).toString('hex')}:`;
  const tenantId = devTenantId(SCALE_TENANT);
  await db.asSuperuser(
    'insert into platform.tenants (id, slug, display_name) values ($1, $2, $2) on conflict do nothing',
    [tenantId, SCALE_TENANT],
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: '',
    DATABASE_URL: db.appUrl,
    DB_POOL_MAX: '4',
    REDIS_URL: SCALE_REDIS_URL,
    EVENTS_STREAM_PREFIX: streamPrefix,
    EVENTS_STREAM_MAXLEN: '1000000',
    // A killed worker's deliveries are claimed by another after this long.
    EVENTS_CLAIM_IDLE_MS: '2000',
    WIDGETDC_DATA_DIR: dataDir,
    AUTH_ISSUER: issuer.issuer.issuer,
    AUTH_JWKS_URL: issuer.issuer.jwksUrl,
    AUTH_AUDIENCE: issuer.audience,
    // Both audit replicas checkpoint the chains while the load runs (one shared anchor store).
    AUDIT_CHECKPOINT_INTERVAL_MS: '2000',
    EMBEDDINGS_PROVIDER: 'hashed',
    LOG_LEVEL: process.env.WIDGETDC_SCALE_LOG === '1' ? 'info' : 'warn',
    OTEL_SDK_DISABLED: 'true',
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    APOLLO_TELEMETRY_DISABLED: '1',
  };
  let cluster: Cluster;
  try {
    cluster = await startCluster({ ...options, env });
  } catch (error) {
    await issuer.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const token = () => issuer.token(SCALE_TENANT, 'alice', ['Admin']);
  return {
    cluster,
    issuer,
    streamPrefix,
    token,
    async graphql<T>(query: string, variables: Record<string, unknown> = {}) {
      const res = await fetch(`${cluster.front.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
      if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => e.message).join('; ')}`);
      return body.data as T;
    },
    async stop() {
      await cluster.stop();
      const transport = new RedisStreamTransport({ url: SCALE_REDIS_URL, prefix: streamPrefix });
      await transport.destroy(await transport.streams());
      await transport.close();
      await issuer.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
