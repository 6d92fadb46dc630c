import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DevIssuer,
  type DevKeys,
  loadOrCreateDevKeys,
  signDevServiceToken,
  signDevToken,
  startDevIssuer,
} from '#kernel/auth/dev-issuer.ts';
import type { TokenVerifierOptions } from '#kernel/auth/token-verifier.ts';
import { DEFAULT_AUDIENCE } from '#kernel/config.ts';

/** A dev issuer for tests, with its own keys in a temporary folder. */
export interface TestIssuer {
  /** Verifier options trusting exactly this issuer (audience {@link DEFAULT_AUDIENCE}). */
  readonly auth: TokenVerifierOptions;
  /** The audience its tokens carry. */
  readonly audience: string;
  readonly keys: DevKeys;
  /** The running issuer: `issuer` (template with `{tid}`), `jwksUrl`, `port`. */
  readonly issuer: DevIssuer;
  /** Signs a token for `user` of `tenant` (slug) with `roles`. */
  token(tenant: string, user?: string, roles?: string[], ttlSeconds?: number): Promise<string>;
  /** Signs an app-only token for `service` acting in `tenantId` (GUID). */
  serviceToken(service: string, tenantId: string, roles?: string[]): Promise<string>;
  close(): Promise<void>;
}

/** Starts a dev issuer on a free port. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const dir = await mkdtemp(join(tmpdir(), 'wtdc-issuer-'));
  const keys = await loadOrCreateDevKeys(dir);
  const issuer = await startDevIssuer(keys, {
    host: '127.0.0.1',
    port: 0,
    nodeEnv: 'test',
    allowInProduction: false,
  });
  const audience = DEFAULT_AUDIENCE;
  const auth: TokenVerifierOptions = {
    issuers: [{ name: 'dev', issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audiences: [audience] }],
    clockToleranceSeconds: 5,
  };
  return {
    auth,
    audience,
    keys,
    issuer,
    token: (tenant, user = 'alice', roles = ['Admin'], ttlSeconds = 600) =>
      signDevToken(keys, { tenant, user, roles, ttlSeconds, audience, issuer: issuer.issuer }),
    serviceToken: (service, tenantId, roles = ['Contributor']) =>
      signDevServiceToken(keys, { service, tenantId, roles, audience, issuer: issuer.issuer }),
    async close() {
      await issuer.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
