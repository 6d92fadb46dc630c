import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAnchorKey } from '../src/anchor/anchor-key.ts';
import { loadAuditConfig } from '../src/config.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wtdc-audit-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('audit configuration', () => {
  it('defaults to a generated key and a checkpoint folder in the data folder, every minute', () => {
    expect(loadAuditConfig({ WIDGETDC_DATA_DIR: dir })).toEqual({
      port: 4004,
      keyFile: join(dir, 'audit-anchor-key.pem'),
      generateKey: true,
      anchorDir: join(dir, 'audit-anchors'),
      checkpointIntervalMs: 60_000,
    });
  });

  it('takes the key file, folder and interval from the environment', () => {
    expect(
      loadAuditConfig({
        NODE_ENV: 'production',
        AUDIT_ANCHOR_KEY_FILE: '/run/secrets/audit_anchor_key',
        AUDIT_ANCHOR_DIR: '/var/lib/widgetdc/audit-anchors',
        AUDIT_CHECKPOINT_INTERVAL_MS: '0',
      }),
    ).toEqual({
      port: 4004,
      keyFile: '/run/secrets/audit_anchor_key',
      generateKey: false,
      anchorDir: '/var/lib/widgetdc/audit-anchors',
      checkpointIntervalMs: 0,
    });
  });

  it('refuses production without a key file, and a bad interval, saying what to set', () => {
    expect(() => loadAuditConfig({ NODE_ENV: 'production' })).toThrow(
      /AUDIT_ANCHOR_KEY_FILE must name the Ed25519 key \(PEM\) that signs audit checkpoints in production/,
    );
    expect(() => loadAuditConfig({ AUDIT_CHECKPOINT_INTERVAL_MS: 'soon' })).toThrow(
      /AUDIT_CHECKPOINT_INTERVAL_MS must be a whole number from 0 to 86400000 \(got "soon"\)/,
    );
    expect(() => loadAuditConfig({ AUDIT_CHECKPOINT_INTERVAL_MS: '-5' })).toThrow(
      /AUDIT_CHECKPOINT_INTERVAL_MS must be a whole number from 0 to 86400000 \(got "-5"\)/,
    );
  });
});

describe('anchor key', () => {
  it('generates a development key once (mode 0600) and reuses it', async () => {
    const file = join(dir, 'nested', 'key.pem');
    const first = await loadAnchorKey(file, true);
    const again = await loadAnchorKey(file, true);
    expect(again.keyId).toBe(first.keyId);
    expect(first.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const signature = first.sign('payload');
    expect(again.verify('payload', signature)).toBe(true);
    expect(again.verify('payload!', signature)).toBe(false);
    expect(again.verify('payload', 'not base64 at all')).toBe(false);
  });

  it('refuses a missing configured key, a non-key and a key of another kind', async () => {
    await expect(loadAnchorKey(join(dir, 'absent.pem'), false)).rejects.toThrow(/does not exist/);
    await writeFile(join(dir, 'text.pem'), 'hello');
    await expect(loadAnchorKey(join(dir, 'text.pem'), false)).rejects.toThrow(/is not a PEM private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    await writeFile(join(dir, 'rsa.pem'), rsa);
    await expect(loadAnchorKey(join(dir, 'rsa.pem'), false)).rejects.toThrow(
      /is a rsa key; audit checkpoints need an Ed25519 key/,
    );
  });
});
