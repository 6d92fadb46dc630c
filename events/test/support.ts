// Shared set-up of the event-bus suites: a migrated database, a tenant, an ORM, and transports
// with key prefixes unique to the run (the machine's Redis is shared).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/postgresql';
import { verifiedWorkerIdentity, type WorkerIdentity } from '#events/consumer/service-actor.ts';
import type { EventSource } from '#events/producer/outbox.ts';
import { PostgresStreamTransport } from '#events/transport/postgres-transport.ts';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createDevServiceTokenProvider } from '#kernel/auth/service-identity.ts';
import { createTokenVerifier } from '#kernel/auth/token-verifier.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { startTestIssuer, type TestIssuer } from '#testing/test-identity.ts';

/** The machine's shared Redis. */
export const REDIS_URL = process.env.WIDGETDC_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A prefix no other run uses. */
export function uniquePrefix(): string {
  return `wtdc-test:${randomBytes(5).toString('hex')}:`;
}

/** A transport of `kind` on the test database (postgres) or the shared Redis. */
export function makeTransport(
  kind: 'redis' | 'postgres',
  db: TestDatabase,
  prefix = uniquePrefix(),
): StreamTransport {
  return kind === 'redis'
    ? new RedisStreamTransport({ url: REDIS_URL, prefix })
    : new PostgresStreamTransport({ url: db.appUrl, prefix, pollMs: 20 });
}

/** Registers a tenant and returns it as an event source with a user actor. */
export async function tenantSource(orm: MikroORM, slug: string): Promise<EventSource> {
  const tenantId = devTenantId(slug);
  await withTenant(orm, tenantId, (em) =>
    em.execute(
      'insert into platform.tenants (id, slug, display_name) values (?, ?, ?) on conflict do nothing',
      [tenantId, slug, slug],
    ),
  );
  return { tenantId, actor: { kind: 'user', id: randomUUID(), name: `alice@${slug}` } };
}

/** An ORM on the application role with no entities. */
export function appOrm(db: TestDatabase): Promise<MikroORM> {
  return createOrm({ url: db.appUrl, entities: [], poolMax: 6 });
}

/** Polls `check` until it returns true (the suites assert outcomes, never durations). */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  limitMs = 60_000,
): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An in-process worker's identity: the test issuer's app-only tokens for `service`, verified as the services verify. */
export function testWorkerIdentity(issuer: TestIssuer, service = 'test-worker'): WorkerIdentity {
  return verifiedWorkerIdentity(
    createDevServiceTokenProvider({
      service,
      keys: issuer.keys,
      issuer: issuer.issuer.issuer,
      audience: issuer.audience,
    }),
    createTokenVerifier(issuer.auth),
  );
}

/**
 * Environment that gives a worker process the test issuer's service identity the way `npm start`
 * gives its services theirs: a data folder holding the issuer's keys, AUTH_ISSUER and AUTH_JWKS_URL.
 */
export async function workerIdentityEnv(
  issuer: TestIssuer,
): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'wtdc-worker-data-'));
  await mkdir(join(dataDir, 'dev-issuer'), { mode: 0o700 });
  await writeFile(join(dataDir, 'dev-issuer', 'keys.json'), JSON.stringify(issuer.keys), { mode: 0o600 });
  return {
    env: {
      WIDGETDC_DATA_DIR: dataDir,
      AUTH_ISSUER: issuer.issuer.issuer,
      AUTH_JWKS_URL: issuer.issuer.jwksUrl,
      AUTH_AUDIENCE: issuer.audience,
    },
    close: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** What {@link useEventSuite} opens for a suite; read it inside tests and hooks, not at load time. */
export interface EventSuite {
  readonly db: TestDatabase;
  readonly orm: MikroORM;
  /** The test issuer (undefined unless asked for). */
  readonly issuer: TestIssuer;
  /** A registered tenant as an event source, by the slug it was asked for with. */
  source(slug: string): EventSource;
}

/**
 * Opens, before the suite's tests, a migrated test database (running `superuserSql` statements on
 * it), an application-role ORM, the named tenants and, if asked, a test issuer; closes them after.
 */
export function useEventSuite(options: {
  tenants: string[];
  issuer?: boolean;
  superuserSql?: string;
}): EventSuite {
  let db: TestDatabase | undefined;
  let orm: MikroORM | undefined;
  let issuer: TestIssuer | undefined;
  const sources = new Map<string, EventSource>();
  beforeAll(async () => {
    if (options.issuer) issuer = await startTestIssuer();
    db = await createTestDatabase();
    for (const sql of (options.superuserSql ?? '').split(';').filter((s) => s.trim()))
      await db.asSuperuser(sql);
    orm = await appOrm(db);
    for (const slug of options.tenants) sources.set(slug, await tenantSource(orm, slug));
  });
  afterAll(async () => {
    await orm?.close();
    await db?.close();
    await issuer?.close();
  });
  const opened = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is opened in beforeAll; read it inside a test or hook`);
    return value;
  };
  return {
    get db() {
      return opened(db, 'the database');
    },
    get orm() {
      return opened(orm, 'the ORM');
    },
    get issuer() {
      return opened(issuer, 'the issuer (pass issuer: true)');
    },
    source: (slug) => opened(sources.get(slug), `tenant "${slug}"`),
  };
}
