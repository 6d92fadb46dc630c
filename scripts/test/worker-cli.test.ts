// The worker command: precise refusals of bad arguments, discovery of subgraph consumers, and a
// clean exit on SIGTERM.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { RedisStreamTransport } from '#kernel/events/redis-transport.ts';
import { createTestDatabase, type TestDatabase } from '#kernel/testing/test-database.ts';
import { REDIS_URL } from '../../kernel/test/events/support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const prefix = `wtdc-cli:${randomBytes(4).toString('hex')}:`;
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
  await transport.destroy(['approval.requested', 'approval.decided']);
  await transport.close();
  await db?.close();
});

function run(args: string[], env: Record<string, string>, onLine?: (line: string, stop: () => void) => void) {
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(join(ROOT, 'node_modules', '.bin', 'node'), ['scripts/worker.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', LOG_FORMAT: 'pretty', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      onLine?.(output, () => child.kill('SIGTERM'));
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('npm run worker', () => {
  it('refuses missing and invalid arguments with every problem named', async () => {
    const { code, output } = await run(['--concurrency', '0'], { DATABASE_URL: '' });
    expect(code).toBe(1);
    expect(output).toContain('--group <name> is required');
    expect(output).toContain('--concurrency must be a whole number from 1 to 256 (got "0")');
    expect(output).toContain('DATABASE_URL must be set');
  });

  it('names the known groups when the group does not exist', async () => {
    const { code, output } = await run(['--group', 'nope'], { DATABASE_URL: db.appUrl });
    expect(code).toBe(1);
    expect(output).toContain('no consumer group "nope"; known groups: agent-approvals');
  });

  it('runs a discovered subgraph consumer and stops cleanly on SIGTERM', async () => {
    let signalled = false;
    const { code, output } = await run(
      ['--group', 'agent-approvals', '--concurrency', '2'],
      { DATABASE_URL: db.appUrl, REDIS_URL, EVENTS_STREAM_PREFIX: prefix },
      (text, stop) => {
        if (!signalled && text.includes('group agent-approvals on redis')) {
          signalled = true;
          stop();
        }
      },
    );
    expect(output).toContain('topics approval.requested, approval.decided, concurrency 2, relay on');
    expect(output).toContain('shutting down (SIGTERM)');
    expect(output).toContain('stopped');
    expect(code).toBe(0);
  });
});
