import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DevIssuer,
  type DevKeys,
  loadOrCreateDevKeys,
  signDevToken,
  startDevIssuer,
} from '../auth/dev-issuer.ts';
import type { TokenVerifierOptions } from '../auth/token-verifier.ts';
import { DEFAULT_AUDIENCE } from '../config.ts';

/** A dev issuer for tests, with its own keys in a temporary folder. */
export interface TestIssuer {
  readonly auth: TokenVerifierOptions;
  readonly keys: DevKeys;
  readonly issuer: DevIssuer;
  /** Signs a token for `user` of `tenant` (slug) with `roles`. */
  token(tenant: string, user?: string, roles?: string[], ttlSeconds?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts a dev issuer on a free port. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const dir = await mkdtemp(join(tmpdir(), 'wtdc-issuer-'));
  const keys = await loadOrCreateDevKeys(dir);
  const issuer = await startDevIssuer(keys, { host: '127.0.0.1', port: 0 });
  const auth = {
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: DEFAULT_AUDIENCE,
    clockToleranceSeconds: 5,
  };
  return {
    auth,
    keys,
    issuer,
    token: (tenant, user = 'alice', roles = ['Admin'], ttlSeconds = 600) =>
      signDevToken(keys, { tenant, user, roles, ttlSeconds, audience: auth.audience, issuer: issuer.issuer }),
    async close() {
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
