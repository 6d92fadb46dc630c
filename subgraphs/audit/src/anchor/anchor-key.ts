import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '#kernel/errors.ts';

/** The Ed25519 key pair that signs checkpoints; verifying needs only the public half. */
export interface AnchorKey {
  /** First 16 hex digits of SHA-256 over the public key (SPKI DER): names the key in each record. */
  readonly keyId: string;
  sign(payload: string): string;
  /** Whether `signature` (base64) is this key's signature of `payload`. */
  verify(payload: string, signature: string): boolean;
}

/** An anchor key from a PKCS#8 PEM private key. */
export function anchorKeyFromPem(pem: string, source = 'the anchor key'): AnchorKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new ConfigError([`${source} is not a PEM private key`]);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new ConfigError([
      `${source} is a ${privateKey.asymmetricKeyType} key; audit checkpoints need an Ed25519 key (openssl genpkey -algorithm ed25519)`,
    ]);
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
  return {
    keyId,
    sign: (payload) => sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64'),
    verify: (payload, signature) => {
      try {
        return verify(null, Buffer.from(payload, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}

/** Reads the key file; when `generate` is set and the file is absent, writes a new key there first (mode 0600). */
export async function loadAnchorKey(file: string, generate: boolean): Promise<AnchorKey> {
  try {
    return anchorKeyFromPem(await readFile(file, 'utf8'), `AUDIT_ANCHOR_KEY_FILE (${file})`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!generate) throw new ConfigError([`AUDIT_ANCHOR_KEY_FILE (${file}) does not exist`]);
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  try {
    // link, unlike rename, never replaces: if another process generated a key meanwhile, its key wins.
    await link(tmp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(tmp);
  }
  return anchorKeyFromPem(await readFile(file, 'utf8'), `the generated anchor key (${file})`);
}
