// Every process keeps its spans per tenant in observability.spans: the tenant comes from the span or
// from another span of its trace, spans of traces without a verified tenant are not kept, and row-level
// security keeps each tenant's spans to itself (checked with direct SQL as the application role).
import { randomUUID } from 'node:crypto';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import pg from 'pg';
import { startTelemetry, type Telemetry } from '#kernel/telemetry/sdk.ts';
import { TenantSpanStore } from '#kernel/telemetry/span-store.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';

let db: TestDatabase;
let telemetry: Telemetry;
let store: TenantSpanStore;
const acme = randomUUID();
const globex = randomUUID();

beforeAll(async () => {
  db = await createTestDatabase();
  for (const [id, slug] of [
    [acme, 'acme'],
    [globex, 'globex'],
  ]) {
    await db.asSuperuser('insert into platform.tenants (id, slug, display_name) values ($1, $2, $2)', [
      id,
      slug,
    ]);
  }
  store = new TenantSpanStore({ url: db.appUrl, unclaimedMs: 0, flushIntervalMs: 60_000 });
  telemetry = startTelemetry({
    serviceName: 'span-store-test',
    spanProcessors: [store],
    instrumentations: [],
  });
});
afterAll(async () => {
  await telemetry?.shutdown();
  await db?.close();
});

/** Runs `sql` as widgetdc_app in one transaction, in `tenant` when given. */
async function asApp<T extends pg.QueryResultRow>(tenant: string | undefined, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.appUrl });
  await client.connect();
  try {
    await client.query('begin');
    if (tenant) await client.query("select set_config('app.tenant_id', $1, true)", [tenant]);
    const { rows } = await client.query<T>(sql);
    await client.query('commit');
    return rows;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

/** An HTTP span with an operation span (carrying the tenant) and a SQL span inside it. */
function request(tenant: string | undefined, name: string): string {
  const tracer = trace.getTracer('test');
  return tracer.startActiveSpan('POST', (root) => {
    tracer.startActiveSpan(name, (operation) => {
      if (tenant) operation.setAttribute('widgetdc.tenant.id', tenant);
      tracer.startActiveSpan('SELECT', (sql) => {
        sql.setAttribute('db.system.name', 'postgresql');
        sql.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
        sql.end();
      });
      operation.end();
    });
    root.end();
    return root.spanContext().traceId;
  });
}

describe('the span store', () => {
  it("keeps each trace's spans in the tenant a span of it names, and no trace without one", async () => {
    const ours = request(acme, 'query Ours');
    const theirs = request(globex, 'query Theirs');
    const nobody = request(undefined, 'query Refused');
    await store.forceFlush();

    type Row = { trace_id: string; name: string; parent: string | null; service: string; status: string };
    const select = `select s.trace_id, s.name, p.name as parent, s.service, s.status
                      from observability.spans s left join observability.spans p
                        on p.trace_id = s.trace_id and p.span_id = s.parent_span_id order by s.name`;
    const seenByAcme = await asApp<Row>(acme, select);
    expect(seenByAcme.map((r) => [r.trace_id, r.name, r.parent, r.status])).toEqual([
      [ours, 'POST', null, 'UNSET'],
      [ours, 'SELECT', 'query Ours', 'ERROR'],
      [ours, 'query Ours', 'POST', 'UNSET'],
    ]);
    expect(seenByAcme.every((r) => r.service === 'span-store-test')).toBe(true);
    expect((await asApp<Row>(globex, select)).map((r) => [r.trace_id, r.name])).toEqual([
      [theirs, 'POST'],
      [theirs, 'SELECT'],
      [theirs, 'query Theirs'],
    ]);
    const everything = await db.asSuperuser<{ trace_id: string }>(
      'select distinct trace_id from observability.spans',
    );
    expect(everything.map((r) => r.trace_id).sort()).toEqual([ours, theirs].sort());
    expect(everything.map((r) => r.trace_id)).not.toContain(nobody);
    expect(store.counts).toMatchObject({ stored: 6, unclaimed: 3 });
  });

  it('refuses the application role without a tenant, another tenant’s rows, updates and deletes', async () => {
    await expect(asApp(undefined, 'select count(*) from observability.spans')).rejects.toThrow(
      // native PostgreSQL: the setting does not exist; PGlite's one session has it, empty
      /app\.tenant_id|invalid input syntax for type uuid: ""/,
    );
    await expect(
      asApp(
        acme,
        `insert into observability.spans (tenant_id, trace_id, span_id, name, service, kind, started_at, duration_us, status)
         values ('${globex}', '${'a'.repeat(32)}', '${'b'.repeat(16)}', 'forged', 'x', 0, now(), 1, 'OK')`,
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(asApp(acme, 'delete from observability.spans')).rejects.toThrow(/permission denied/);
    await expect(asApp(acme, "update observability.spans set name = 'x'")).rejects.toThrow(
      /permission denied/,
    );
  });

  it('sweeps spans older than the retention, every tenant’s, through the one function (no tenant context)', async () => {
    const before = await db.asSuperuser<{ n: string }>('select count(*) as n from observability.spans');
    const [kept] = await asApp<{ n: string }>(
      acme,
      "select observability.sweep_spans(now() - interval '1 hour') as n",
    );
    expect(Number(kept!.n)).toBe(0);
    const [swept] = await asApp<{ n: string }>(
      acme,
      "select observability.sweep_spans(now() + interval '1 hour') as n",
    );
    expect(Number(swept!.n)).toBe(Number(before[0]!.n));
    expect(await db.asSuperuser('select 1 from observability.spans')).toEqual([]);
  });
});
