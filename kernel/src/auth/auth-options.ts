import type { EntraConfig, PlatformConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import type { TokenVerifierOptions, TrustedIssuer } from './token-verifier.ts';

/** The trusted issuer for Entra ID v2 access tokens of the configured tenants and API. */
export function entraIssuer(entra: EntraConfig): TrustedIssuer {
  return {
    name: 'entra',
    issuer: `${entra.authorityHost}/{tid}/v2.0`,
    // Entra ID signs every tenant's tokens with the same keys; one cached key set serves them all.
    jwksUrl: `${entra.authorityHost}/common/discovery/v2.0/keys`,
    // v2 access tokens carry the client id GUID as `aud`, never the `api://` App ID URI (v1 tokens do).
    audiences: [entra.clientId],
    tenantIds: entra.tenantIds,
  };
}

/** Token verification settings from configuration; no trusted issuer at all is a start-up error. */
export function authOptions(config: PlatformConfig): TokenVerifierOptions {
  const { jwksUrl, issuer, audience, clockToleranceSeconds, entra } = config.auth;
  const issuers: TrustedIssuer[] = [];
  if (entra) issuers.push(entraIssuer(entra));
  if (jwksUrl && issuer) issuers.push({ name: 'extra', issuer, jwksUrl, audiences: [audience] });
  if (issuers.length === 0) {
    throw new ConfigError([
      'No identity provider is configured: set AUTH_TENANT_IDS and AUTH_CLIENT_ID for Entra ID, ' +
        'and/or AUTH_ISSUER and AUTH_JWKS_URL for another issuer (npm start sets the latter for its dev issuer; see docs/entra-id.md)',
    ]);
  }
  return { issuers, clockToleranceSeconds };
}
