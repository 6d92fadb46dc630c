// The anchored chain against a database superuser: every attack here runs as the superuser
// (triggers off, row-level security bypassed) on a real PostgreSQL (PGlite and the native server).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { actorOf, recordAudit } from '#kernel/audit/audit-log.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createLogger } from '#kernel/logger.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { anchorKeyFromPem, loadAnchorKey } from '../src/anchor/anchor-key.ts';
import { FileAnchorStore } from '../src/anchor/anchor-store.ts';
import { ChainAnchor } from '../src/anchor/chain-anchor.ts';
import { checkpointAll, checkpointTenant, startCheckpointTimer } from '../src/anchor/checkpointer.ts';
import { auditSubgraph, createAuditSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let audit: SubgraphHarness;
let anchorDir: string;
let anchor: ChainAnchor;

interface Tenant {
  admin: Identity;
  auditor: Identity;
  id: string;
}

interface Verification {
  ok: boolean;
  checked: number;
  firstBroken: { sequence: number } | null;
  firstBrokenSequence: number | null;
  problem: string | null;
  kind: string | null;
  problems: { kind: string; sequence: number | null; message: string }[];
  checkpoints: number;
  anchoredThrough: number | null;
  lastCheckpointAt: string | null;
}

const VERIFY = `query ($from: DateTime, $to: DateTime) { verifyAuditChain(from: $from, to: $to) {
  ok checked firstBroken { sequence } firstBrokenSequence problem kind problems { kind sequence message }
  checkpoints anchoredThrough lastCheckpointAt } }`;

async function tenant(slug: string): Promise<Tenant> {
  const admin = await audit.identity(slug, 'ada', ['Admin']);
  const auditor = await audit.identity(slug, 'otto', ['Auditor']);
  return { admin, auditor, id: admin.tenantId };
}

async function record(t: Tenant, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await withTenant(audit.orm, t.id, (em) =>
      recordAudit(em, t.id, {
        actor: actorOf(t.admin),
        action: 'agent.createTask',
        targetType: 'Task',
        targetId: `task-${i}`,
        outcome: 'success',
      }),
    );
  }
}

function checkpoint(t: Tenant) {
  return withTenant(audit.orm, t.id, (em) => checkpointTenant(em, t.id, anchor));
}

async function verify(t: Tenant, range: { from?: string; to?: string } = {}): Promise<Verification> {
  const result = await audit.execute(t.auditor, VERIFY, range);
  expect(result.errors).toBeUndefined();
  return result.data?.verifyAuditChain as Verification;
}

/**
 * As the superuser: applies `change` (SQL) and then recomputes the hash of every row of the tenant
 * from `fromSeq` on, so the chain is internally consistent again, as a careful attacker leaves it.
 */
function rewrite(t: Tenant, fromSeq: number, change: string) {
  return db.asSuperuser(`do $$
    declare r record; prev text;
    begin
      perform set_config('session_replication_role', 'replica', true);
      ${change};
      prev := coalesce((select hash from audit.audit_events where tenant_id = '${t.id}' and seq = ${fromSeq - 1}),
                       repeat('0', 64));
      for r in select id from audit.audit_events where tenant_id = '${t.id}' and seq >= ${fromSeq} order by seq loop
        update audit.audit_events e set prev_hash = prev where e.id = r.id;
        update audit.audit_events e set hash = audit.row_hash(e.prev_hash, e.id, e.tenant_id, e.seq, e.actor_kind,
          e.actor_id, e.actor, e.on_behalf_of, e.action, e.target_type, e.target_id, e.outcome, e.request_id,
          e.trace_id, e.at, e.input_summary) where e.id = r.id returning e.hash into prev;
      end loop;
    end $$`);
}

/** Row `seq` of the tenant at 2026-01-01 00:seq:00 UTC, for rows from `fromSeq` on (chain recomputed). */
const minuteTimes = (t: Tenant, fromSeq: number) =>
  rewrite(
    t,
    fromSeq,
    `update audit.audit_events set at = timestamptz '2026-01-01T00:00:00Z' + seq * interval '1 minute'
      where tenant_id = '${t.id}' and seq >= ${fromSeq}`,
  );
const minute = (n: number) => `2026-01-01T00:${String(n).padStart(2, '0')}:00.000Z`;

const checkpointFile = (t: Tenant) => join(anchorDir, `${t.id}.jsonl`);

beforeAll(async () => {
  db = await createTestDatabase();
  anchorDir = await mkdtemp(join(tmpdir(), 'wtdc-anchors-'));
  anchor = new ChainAnchor(
    await loadAnchorKey(join(anchorDir, 'key', 'anchor.pem'), true),
    new FileAnchorStore(anchorDir),
  );
  audit = await createSubgraphHarness(createAuditSubgraph({ anchor }), db);
});
afterAll(async () => {
  await audit?.close();
  await db?.close();
  await rm(anchorDir, { recursive: true, force: true });
});

describe('anchored audit chain', () => {
  it('verifies an untouched chain against its checkpoints', async () => {
    const t = await tenant('intact');
    await record(t, 3);
    expect((await checkpoint(t))?.checkpoint).toMatchObject({ seq: 3, tenantId: t.id });
    await record(t, 2);
    expect(await verify(t)).toMatchObject({
      ok: true,
      checked: 5,
      problems: [],
      checkpoints: 1,
      anchoredThrough: 3,
      firstBrokenSequence: null,
    });
    expect((await checkpoint(t))?.created).toBe(true);
    expect(await checkpoint(t)).toMatchObject({ created: false, checkpoint: { seq: 5 } });
    expect(await verify(t)).toMatchObject({ ok: true, checkpoints: 2, anchoredThrough: 5 });
    const lines = (await readFile(checkpointFile(t), 'utf8')).trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual([3, 5]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ v: 1, tenantId: t.id, keyId: anchor.key.keyId });
  });

  it('catches a row edited with every later hash recomputed, naming the first unanchored row', async () => {
    const t = await tenant('recompute');
    await record(t, 4);
    await checkpoint(t);
    await record(t, 2);
    await checkpoint(t);
    await rewrite(
      t,
      5,
      `update audit.audit_events set actor = 'someone-else' where tenant_id = '${t.id}' and seq = 5`,
    );
    const result = await verify(t);
    expect(result).toMatchObject({
      ok: false,
      kind: 'RECOMPUTED_CHAIN',
      firstBrokenSequence: 5,
      firstBroken: { sequence: 5 },
      anchoredThrough: 4,
    });
    expect(result.problem).toMatch(
      /hash of sequence 6 differs from its checkpoint .*: a row from 5 to 6 was rewritten/,
    );
    expect(result.problems).toHaveLength(1);
    // The chain is consistent in itself: only the checkpoint tells.
    const unanchored = await createSubgraphHarness(auditSubgraph, db);
    try {
      expect((await unanchored.execute(t.auditor, VERIFY)).data?.verifyAuditChain).toMatchObject({
        ok: true,
      });
    } finally {
      await unanchored.close();
    }
    // Nor is the rewrite laundered into a new checkpoint.
    await record(t, 1);
    await expect(checkpoint(t)).rejects.toThrow(/no longer matches its checkpoint at sequence 6/);
  });

  it('names the exact row when a checkpoint was taken just before it', async () => {
    const t = await tenant('exact');
    await record(t, 2);
    await checkpoint(t);
    await record(t, 1);
    await checkpoint(t);
    await rewrite(
      t,
      3,
      `update audit.audit_events set outcome = 'denied' where tenant_id = '${t.id}' and seq = 3`,
    );
    expect(await verify(t)).toMatchObject({
      ok: false,
      kind: 'RECOMPUTED_CHAIN',
      firstBrokenSequence: 3,
      problem: expect.stringMatching(/row 3 was rewritten/),
    });
  });

  it('catches deleted newest rows, and rows deleted and written again', async () => {
    const t = await tenant('tail');
    await record(t, 3);
    await checkpoint(t);
    await record(t, 2);
    await checkpoint(t);
    await db.asSuperuser(`do $$ begin perform set_config('session_replication_role', 'replica', true);
      delete from audit.audit_events where tenant_id = '${t.id}' and seq > 3; end $$`);
    const result = await verify(t);
    expect(result).toMatchObject({
      ok: false,
      kind: 'DELETED_TAIL',
      firstBrokenSequence: 4,
      anchoredThrough: 3,
    });
    expect(result.problem).toMatch(
      /chain ends at sequence 3, but it had reached sequence 5 .*rows 4 to 5 were deleted/,
    );

    // New rows take the deleted numbers: the tail is back, but not the checkpointed hash.
    await record(t, 2);
    expect(await verify(t)).toMatchObject({ ok: false, kind: 'RECOMPUTED_CHAIN', firstBrokenSequence: 4 });
  });

  it('catches a row moved out of a ranged check, and a row moved into it', async () => {
    const t = await tenant('moved');
    await record(t, 2);
    await minuteTimes(t, 1);
    await checkpoint(t);
    await record(t, 4);
    await minuteTimes(t, 3);
    await checkpoint(t);
    const range = { from: minute(3), to: minute(6) };
    expect(await verify(t, range)).toMatchObject({ ok: true, checked: 5, anchoredThrough: 6 });

    // Row 4 (inside the range) moved a year back, every later hash recomputed.
    await rewrite(
      t,
      4,
      `update audit.audit_events set at = '2025-01-01T00:00:00Z' where tenant_id = '${t.id}' and seq = 4`,
    );
    const moved = await verify(t, range);
    expect(moved).toMatchObject({
      ok: false,
      kind: 'MOVED_ROW',
      firstBrokenSequence: 4,
      firstBroken: { sequence: 4 },
    });
    expect(moved.problem).toMatch(
      /lies outside the checked range although rows before and after it lie inside/,
    );
    expect(moved.problems.map((p) => p.kind)).toContain('RECOMPUTED_CHAIN');
    // A range that only the moved time falls into finds it too.
    const into = await verify(t, { from: '2024-12-31T00:00:00Z', to: '2025-01-02T00:00:00Z' });
    expect(into).toMatchObject({ ok: false, firstBrokenSequence: 4, kind: 'MOVED_ROW' });
  });

  it('catches the last row of a range moved past its end', async () => {
    const t = await tenant('moved-last');
    await record(t, 2);
    await minuteTimes(t, 1);
    await checkpoint(t);
    await record(t, 5);
    await minuteTimes(t, 3);
    await checkpoint(t);
    // Row 5, the last of [00:03, 00:05:30), moved to 00:05:45: out of the range, and times still run forwards.
    const range = { from: minute(3), to: '2026-01-01T00:05:30.000Z' };
    await rewrite(
      t,
      5,
      `update audit.audit_events set at = '2026-01-01T00:05:45Z' where tenant_id = '${t.id}' and seq = 5`,
    );
    const result = await verify(t, range);
    expect(result).toMatchObject({ ok: false, kind: 'RECOMPUTED_CHAIN', firstBrokenSequence: 3 });
    expect(result.problem).toMatch(/a row from 3 to 7 was rewritten/);
  });

  it('catches a time moved without recomputing, as an altered row', async () => {
    const t = await tenant('moved-plain');
    await record(t, 3);
    await db.asSuperuser(`do $$ begin perform set_config('session_replication_role', 'replica', true);
      update audit.audit_events set at = at - interval '1 day' where tenant_id = '${t.id}' and seq = 2; end $$`);
    expect(await verify(t)).toMatchObject({ ok: false, kind: 'ALTERED_ROW', firstBrokenSequence: 2 });
  });

  it('catches a tampered, an unsigned, a foreign-key and a garbage checkpoint line', async () => {
    const t = await tenant('forged');
    await record(t, 2);
    await checkpoint(t);
    await record(t, 2);
    await checkpoint(t);
    const file = checkpointFile(t);
    const [first, second] = (await readFile(file, 'utf8')).trimEnd().split('\n');
    const tampered = { ...JSON.parse(second!), hash: 'f'.repeat(64) };
    await writeFile(file, `${first}\n${JSON.stringify(tampered)}\n`);
    const result = await verify(t);
    expect(result).toMatchObject({
      ok: false,
      kind: 'FORGED_CHECKPOINT',
      firstBrokenSequence: 4,
      checkpoints: 1,
      anchoredThrough: 2,
    });
    expect(result.problem).toMatch(/line 2 of the tenant's checkpoint record has no valid signature/);

    const other = anchorKeyFromPem(
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    const signedElsewhere = { ...JSON.parse(second!), keyId: other.keyId };
    await writeFile(file, `${first}\n${second}\n${JSON.stringify(signedElsewhere)}\nnot json\n`);
    const problems = (await verify(t)).problems;
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'FORGED_CHECKPOINT',
        sequence: 4,
        message: expect.stringMatching(/line 3 .*names another key/),
      }),
      expect.objectContaining({
        kind: 'FORGED_CHECKPOINT',
        sequence: null,
        message: expect.stringMatching(/line 4 .*is not JSON/),
      }),
    ]);
  });

  it('keeps each tenant to its own checkpoints', async () => {
    const a = await tenant('iso-a');
    const b = await tenant('iso-b');
    await record(a, 3);
    await record(b, 1);
    await checkpoint(a);
    expect(await verify(b)).toMatchObject({ ok: true, checkpoints: 0, anchoredThrough: null });
    // A's checkpoint copied into B's record is refused there, and A is untouched.
    const line = (await readFile(checkpointFile(a), 'utf8')).trimEnd();
    await writeFile(checkpointFile(b), `${line}\n`);
    const copied = await verify(b);
    expect(copied).toMatchObject({ ok: false, kind: 'FORGED_CHECKPOINT', checkpoints: 0 });
    expect(copied.problem).toMatch(/belongs to another tenant/);
    expect(await verify(a)).toMatchObject({ ok: true, checkpoints: 1, anchoredThrough: 3 });
  });

  it('checkpoints every tenant whose head moved, and skips a tampered one', async () => {
    const t = await tenant('round');
    const u = await tenant('round-b');
    await record(t, 2);
    await record(u, 1);
    const logged: string[] = [];
    const logger = createLogger('audit', { level: 'error', write: (line) => logged.push(line) });
    expect(await checkpointAll(audit.orm, anchor, logger)).toBeGreaterThanOrEqual(2);
    expect((await anchor.latest(t.id))?.seq).toBe(2);
    expect((await anchor.store.lines(u.id)).map((line) => JSON.parse(line).seq)).toEqual([1]);
    expect(await checkpointAll(audit.orm, anchor, logger)).toBe(0);

    await rewrite(t, 2, `update audit.audit_events set actor = 'x' where tenant_id = '${t.id}' and seq = 2`);
    await record(t, 1);
    await checkpointAll(audit.orm, anchor, logger);
    expect((await anchor.latest(t.id))?.seq).toBe(2);
    expect(logged.join('\n')).toMatch(new RegExp(`checkpoint of tenant ${t.id} failed.*no longer matches`));
  });

  it('does not checkpoint a head again that another replica sharing the store has checkpointed', async () => {
    const t = await tenant('two-replicas');
    await record(t, 2);
    // A second audit replica: its own process memory, the same key and anchor store.
    const other = new ChainAnchor(anchor.key, new FileAnchorStore(anchorDir));
    expect(await other.latest(t.id)).toBeNull();
    expect((await checkpoint(t))?.created).toBe(true);
    const again = await withTenant(audit.orm, t.id, (em) => checkpointTenant(em, t.id, other));
    expect(again).toMatchObject({ created: false, checkpoint: { seq: 2 } });
    await record(t, 1);
    const moved = await withTenant(audit.orm, t.id, (em) => checkpointTenant(em, t.id, other));
    expect(moved?.created).toBe(true);
    expect((await checkpoint(t))?.created).toBe(false);
    expect((await anchor.store.lines(t.id)).map((line) => JSON.parse(line).seq)).toEqual([2, 3]);
  });

  it('checkpoints on a timer until stopped', async () => {
    const t = await tenant('timer');
    await record(t, 3);
    const timer = startCheckpointTimer(audit.orm, anchor, 10, createLogger('audit', { level: 'silent' }));
    try {
      while ((await anchor.latest(t.id))?.seq !== 3) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await timer.stop();
    }
    expect(await verify(t)).toMatchObject({ ok: true, anchoredThrough: 3 });
  });

  it('checkpoints on demand for Admins only', async () => {
    const t = await tenant('on-demand');
    await record(t, 2);
    const mutation = 'mutation { checkpointAuditChain { sequence hash at checkpointedAt keyId created } }';
    const first = await audit.execute(t.admin, mutation);
    expect(first.errors).toBeUndefined();
    expect(first.data?.checkpointAuditChain).toMatchObject({
      sequence: 2,
      keyId: anchor.key.keyId,
      created: true,
    });
    // The mutation's own audit record is the next head.
    expect((await audit.execute(t.admin, mutation)).data?.checkpointAuditChain).toMatchObject({
      sequence: 3,
    });
    const refused = await audit.execute(t.auditor, mutation);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });

    const unanchored = await createSubgraphHarness(auditSubgraph, db);
    try {
      const unavailable = await unanchored.execute(t.admin, mutation);
      expect(unavailable.errors?.[0]).toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    } finally {
      await unanchored.close();
    }
  });
});
