// The dead-letters command: list (with tenant filter), inspect, replay and discard on Redis.
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RedisStreamTransport } from '#events/transport/redis-transport.ts';
import { REDIS_URL } from '../../events/test/support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const prefix = `wtdc-dlq-cli:${randomBytes(4).toString('hex')}:`;
const transport = new RedisStreamTransport({ url: REDIS_URL, prefix });
const T = 'killswitch.changed';
const tenants = [randomUUID(), randomUUID()];

afterAll(async () => {
  await transport.destroy([T]);
  await transport.close();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      join(ROOT, 'node_modules', '.bin', 'node'),
      ['scripts/dead-letters.ts', ...args],
      { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', REDIS_URL, EVENTS_STREAM_PREFIX: prefix } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run dead-letters', () => {
  it('lists, filters, inspects, replays and discards', async () => {
    await transport.ensureGroup(T, 'ops');
    await transport.append(
      tenants.map((tenantId, n) => ({ stream: T, tenantId, body: JSON.stringify({ id: `e${n}` }) })),
    );
    for (const [n, d] of (await transport.read('ops', 'w', [T], 10, 10)).entries()) {
      await transport.deadLetter(d, {
        group: 'ops',
        consumer: 'w',
        error: `bad ${n}`,
        attempts: 3,
        tenantId: tenants[n],
      });
    }
    const all = JSON.parse((await cli('list', T)).stdout) as { id: string; eventId: string; error: string }[];
    expect(all.map((l) => [l.eventId, l.error])).toEqual([
      ['e0', 'bad 0'],
      ['e1', 'bad 1'],
    ]);
    const filtered = JSON.parse((await cli('list', T, '--tenant', tenants[1]!)).stdout) as {
      eventId: string;
    }[];
    expect(filtered.map((l) => l.eventId)).toEqual(['e1']);
    expect(JSON.parse((await cli('inspect', T, all[0]!.id)).stdout)).toMatchObject({
      attempts: 3,
      consumer: 'w',
    });
    expect(JSON.parse((await cli('replay', T, all[0]!.id)).stdout)).toMatchObject({ replayed: all[0]!.id });
    expect((await transport.read('ops', 'w', [T], 10, 10)).map((d) => d.body)).toEqual([
      JSON.stringify({ id: 'e0' }),
    ]);
    expect((await cli('discard', T, all[1]!.id)).code).toBe(0);
    expect(JSON.parse((await cli('list', T)).stdout)).toEqual([]);
    const missing = await cli('inspect', T, all[1]!.id);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`NOT_FOUND: no dead letter ${all[1]!.id} on ${T}`);
  });

  it('refuses an unknown topic and an unknown command', async () => {
    const topic = await cli('list', 'no.such');
    expect(topic.code).toBe(1);
    expect(topic.stderr).toContain('BAD_USER_INPUT: unknown topic "no.such"');
    const command = await cli('frobnicate');
    expect(command.stderr).toContain('unknown command "frobnicate"');
  });
});
