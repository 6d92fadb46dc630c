import type { PlatformConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { TokenVerifierOptions } from './token-verifier.ts';

/** Token verification settings from configuration; absent settings are a start-up error. */
export function authOptions(config: PlatformConfig): TokenVerifierOptions {
  const { jwksUrl, issuer, audience, clockToleranceSeconds } = config.auth;
  if (!jwksUrl || !issuer) {
    throw new ConfigError([
      'AUTH_JWKS_URL and AUTH_ISSUER must be set (npm start sets them for its embedded dev issuer; see README for Entra ID)',
    ]);
  }
  return { jwksUrl, issuer, audience, clockToleranceSeconds };
}
