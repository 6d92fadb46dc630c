import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { ROOT_DIR } from '../../gateway/src/compose.ts';

const run = promisify(execFile);
let db: TestDatabase;

function cli(script: string, args: string[]) {
  return run(process.execPath, [join(ROOT_DIR, 'scripts', script), ...args], {
    env: { ...process.env, DATABASE_URL: db.appUrl, LOG_LEVEL: 'error' },
    cwd: ROOT_DIR,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: error.stdout,
      stderr: error.stderr,
    }),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe('npm run tenant', () => {
  const tid = randomUUID();

  it("registers a directory as a tenant and records it in that tenant's audit log", async () => {
    const result = await cli('tenant.ts', [
      'register',
      '--id',
      tid.toUpperCase(),
      '--slug',
      'contoso',
      '--name',
      'Contoso Ltd',
    ]);
    expect(result).toMatchObject({ code: 0, stdout: `registered tenant contoso (${tid})\n` });
    const shown = await cli('tenant.ts', ['show', '--id', tid]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: tid, slug: 'contoso', displayName: 'Contoso Ltd' });
    const audit = await db.asSuperuser<{ action: string; actor_kind: string; target_id: string }>(
      'select action, actor_kind, target_id from audit.audit_events where tenant_id = $1',
      [tid],
    );
    expect(audit).toEqual([{ action: 'platform.registerTenant', actor_kind: 'service', target_id: tid }]);
  });

  it('refuses a second registration and bad input with clear messages, changing nothing', async () => {
    expect(await cli('tenant.ts', ['register', '--id', tid, '--slug', 'other', '--name', 'x'])).toMatchObject(
      {
        code: 1,
        stderr: `Tenant ${tid} or slug "other" is already registered\n`,
      },
    );
    expect(
      (await cli('tenant.ts', ['register', '--id', 'contoso', '--slug', 'x', '--name', 'x'])).stderr,
    ).toMatch(/tenant id must be the directory's GUID/);
    expect(
      (await cli('tenant.ts', ['register', '--id', randomUUID(), '--slug', 'Bad Slug', '--name', 'x']))
        .stderr,
    ).toMatch(/slug must be 1 to 63 lower-case letters/);
    const [counted] = await db.asSuperuser<{ count: string }>(
      "select count(*) from platform.tenants where slug = 'contoso'",
    );
    expect(Number(counted?.count)).toBe(1);
  });

  it('says when a tenant is not registered', async () => {
    expect(await cli('tenant.ts', ['show', '--id', randomUUID()])).toMatchObject({ code: 1 });
  });
});

describe('npm run audit:export', () => {
  it("streams a tenant's events of a time range as JSON Lines in chain order", async () => {
    const tid = randomUUID();
    await cli('tenant.ts', [
      'register',
      '--id',
      tid,
      '--slug',
      `t-${tid.slice(0, 8)}`,
      '--name',
      'Export Co',
    ]);
    const result = await cli('audit-export.ts', [
      '--tenant',
      tid,
      '--from',
      '2020-01-01T00:00:00Z',
      '--to',
      '2100-01-01T00:00:00Z',
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      expect.objectContaining({
        tenantId: tid,
        sequence: 1,
        action: 'platform.registerTenant',
        previousHash: '0'.repeat(64),
      }),
    ]);
    const empty = await cli('audit-export.ts', [
      '--tenant',
      tid,
      '--from',
      '2000-01-01T00:00:00Z',
      '--to',
      '2001-01-01T00:00:00Z',
    ]);
    expect(empty).toMatchObject({ code: 0, stdout: '' });
    expect((await cli('audit-export.ts', ['--tenant', tid, '--from', 'yesterday'])).code).toBe(2);
  });
});
