// Cost of zero trust per request: token verification (warm and cold JWKS cache) and row-level
// security (a tenant transaction with set_config + RLS vs. the same query by a role that bypasses
// RLS), on native PostgreSQL. Run: npm run bench:auth [-- --iterations 3000 --tenants 50 --rows 2000]
// Database: WIDGETDC_BENCH_PG_URL (a superuser; default postgres://postgres@127.0.0.1:5432/postgres);
// a throwaway database is created, migrated and dropped.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createTokenVerifier } from '#kernel/auth/token-verifier.ts';
import { migrate } from '#kernel/db/migrate.ts';
import { APP_ROLE } from '#kernel/db/roles.ts';
import { startTestIssuer } from '#testing/test-identity.ts';

const ADMIN_URL = process.env.WIDGETDC_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PAGE = 20;
const CONCURRENCY = 8;

const out = (line = '') => process.stdout.write(`${line}\n`);
const progress = (text: string) => process.stderr.write(text);

interface Stats {
  n: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  perSecond: number;
}

/** Runs `op` `n` times one after another and summarises the latencies. */
async function measure(label: string, n: number, op: (i: number) => Promise<unknown>): Promise<Stats> {
  const times: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i += 1) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
    if (i % Math.max(1, Math.floor(n / 10)) === 0) progress(`\r  ${label}: ${i}/${n}   `);
  }
  const total = performance.now() - started;
  progress(`\r  ${label}: ${n}/${n} done\n`);
  times.sort((a, b) => a - b);
  return {
    n,
    meanMs: times.reduce((a, b) => a + b, 0) / n,
    p50Ms: times[Math.floor(n * 0.5)]!,
    p95Ms: times[Math.floor(n * 0.95)]!,
    perSecond: (n / total) * 1000,
  };
}

/** Runs `n` operations spread over `workers` concurrent loops; returns operations per second. */
async function throughput(n: number, workers: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return (n / (performance.now() - started)) * 1000;
}

const fmt = (s: Stats, unit: 'ms' | 'us' = 'ms') => {
  const k = unit === 'us' ? 1000 : 1;
  const v = (x: number) => (x * k).toFixed(unit === 'us' ? 0 : 3).padStart(9);
  return `mean ${v(s.meanMs)} ${unit}  p50 ${v(s.p50Ms)} ${unit}  p95 ${v(s.p95Ms)} ${unit}  ${s.perSecond.toFixed(0).padStart(7)}/s`;
};

function readOptions() {
  const { values } = parseArgs({
    options: {
      iterations: { type: 'string', default: '3000' },
      tenants: { type: 'string', default: '50' },
      rows: { type: 'string', default: '2000' },
    },
  });
  const positive = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0)
      throw new Error(`--${name} must be a positive whole number (got ${raw})`);
    return n;
  };
  return {
    iterations: positive('iterations', values.iterations),
    tenants: positive('tenants', values.tenants),
    rows: positive('rows', values.rows),
  };
}

async function benchTokens(iterations: number): Promise<void> {
  out('Token verification (RS256, jose, dev issuer JWKS over local HTTP)');
  const issuer = await startTestIssuer();
  try {
    const token = await issuer.token('acme', 'alice', ['Reader']);
    const verify = createTokenVerifier(issuer.auth);
    await verify(token);
    const warm = await measure('warm', iterations, () => verify(token));
    const cold = await measure('cold', Math.min(iterations, 500), () =>
      createTokenVerifier(issuer.auth)(token),
    );
    const parallel = await throughput(iterations, CONCURRENCY, () => verify(token));
    out(`  warm JWKS cache   ${fmt(warm, 'us')}`);
    out(`  cold (fetch keys) ${fmt(cold, 'us')}`);
    out(
      `  warm, ${CONCURRENCY} concurrent: ${parallel.toFixed(0)} verifications/s (one process; WebCrypto verifies on libuv's thread pool)`,
    );
    out(`  cold / warm mean = ${(cold.meanMs / warm.meanMs).toFixed(1)}x`);
  } finally {
    await issuer.close();
  }
}

async function benchRls(options: ReturnType<typeof readOptions>): Promise<void> {
  const name = `wtdc_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${name}`;
  const appUrl = new URL(dbUrl);
  appUrl.username = APP_ROLE;
  appUrl.password = '';
  out();
  out(`Row-level security per request (native PostgreSQL, throwaway database ${name})`);
  await admin.query(`create database ${name}`);
  const pools: pg.Pool[] = [];
  try {
    progress('  migrating…\n');
    await migrate({ url: dbUrl.toString() });
    const owner = new pg.Pool({ connectionString: dbUrl.toString(), max: CONCURRENCY });
    const app = new pg.Pool({ connectionString: appUrl.toString(), max: CONCURRENCY });
    pools.push(owner, app);
    // Dropping the database at the end terminates idle pooled connections; that is expected.
    for (const pool of pools) pool.on('error', () => {});
    const superuser = (
      await owner.query<{ s: boolean }>('select usesuper as s from pg_user where usename = current_user')
    ).rows[0]?.s;
    if (!superuser)
      throw new Error(
        'WIDGETDC_BENCH_PG_URL must name a superuser (it creates the database and bypasses RLS)',
      );
    progress(`  seeding ${options.tenants} tenants × ${options.rows} tasks…\n`);
    const tenants = Array.from({ length: options.tenants }, (_, i) => devTenantId(`bench-${i}`));
    await owner.query(
      `insert into platform.tenants (id, slug, display_name)
       select t, 'bench-' || i, 'Bench ' || i from unnest($1::uuid[]) with ordinality as u(t, i)`,
      [tenants],
    );
    await owner.query(
      `insert into agent.tasks (id, tenant_id, title, status, created_by, created_by_name, created_at, updated_at)
       select gen_random_uuid(), t, 'task ' || n, 'PENDING', gen_random_uuid(), 'bench',
              now() - n * interval '1 second', now()
       from unnest($1::uuid[]) as t, generate_series(1, $2::int) as n`,
      [tenants, options.rows],
    );
    await owner.query('analyze agent.tasks');
    const page = `select id, title, status, created_at from agent.tasks`;
    const order = `order by created_at desc, id desc limit ${PAGE}`;
    const tenantOf = (i: number) => tenants[i % tenants.length]!;

    const bypass = (i: number) => owner.query(`${page} where tenant_id = $1 ${order}`, [tenantOf(i)]);
    const inTransaction = async (pool: pg.Pool, sql: string, i: number, filtered: boolean) => {
      const client = await pool.connect();
      try {
        await client.query('begin');
        await client.query(`select set_config('app.tenant_id', $1, true)`, [tenantOf(i)]);
        const result = await client.query(sql, filtered ? [tenantOf(i)] : []);
        await client.query('commit');
        return result;
      } finally {
        client.release();
      }
    };
    const bypassTx = (i: number) => inTransaction(owner, `${page} where tenant_id = $1 ${order}`, i, true);
    const rls = (i: number) => inTransaction(app, `${page} ${order}`, i, false);

    const rows = (await rls(0)).rowCount;
    const visible = (await inTransaction(app, 'select count(*)::int as n from agent.tasks', 0, false)).rows[0]
      .n;
    if (rows !== PAGE || visible !== options.rows) {
      throw new Error(
        `RLS check failed: page ${rows} rows (want ${PAGE}), visible ${visible} (want ${options.rows})`,
      );
    }
    for (let i = 0; i < 200; i += 1) await Promise.all([bypass(i), bypassTx(i), rls(i)]);

    const n = options.iterations;
    const a = await measure('bypass, 1 statement', n, bypass);
    const b = await measure('bypass, same transaction shape', n, bypassTx);
    const c = await measure('RLS (widgetdc_app)', n, rls);
    progress(`  throughput with ${CONCURRENCY} connections…\n`);
    const ta = await throughput(n, CONCURRENCY, bypass);
    const tb = await throughput(n, CONCURRENCY, bypassTx);
    const tc = await throughput(n, CONCURRENCY, rls);
    out(`  page of ${PAGE} tasks of one tenant among ${options.tenants} tenants × ${options.rows} rows`);
    out(
      `  A bypass role, WHERE tenant_id, 1 statement            ${fmt(a)}  ${ta.toFixed(0)}/s x${CONCURRENCY}`,
    );
    out(
      `  B bypass role, WHERE tenant_id, begin+set_config+commit ${fmt(b)}  ${tb.toFixed(0)}/s x${CONCURRENCY}`,
    );
    out(
      `  C widgetdc_app, RLS only, begin+set_config+commit      ${fmt(c)}  ${tc.toFixed(0)}/s x${CONCURRENCY}`,
    );
    out(
      `  C / A mean latency = ${(c.meanMs / a.meanMs).toFixed(2)}x (whole per-request cost of the tenant transaction)`,
    );
    out(`  C / B mean latency = ${(c.meanMs / b.meanMs).toFixed(2)}x (policy evaluation alone)`);
    out(`  A / C throughput   = ${(ta / tc).toFixed(2)}x`);
  } finally {
    await Promise.all(pools.map((p) => p.end()));
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    progress(`  dropped ${name}\n`);
  }
}

try {
  const options = readOptions();
  await benchTokens(options.iterations);
  await benchRls(options);
} catch (error) {
  process.stderr.write(`\nbench:auth failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
