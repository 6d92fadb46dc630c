import { createRemoteJWKSet, decodeJwt, errors, type JWTPayload, jwtVerify } from 'jose';
import { isUuid } from '../db/tenant-context.ts';
import { AuthenticationError, UnavailableError } from '../errors.ts';
import type { Identity } from './identity.ts';

/** How long fetched keys are trusted before the next refresh. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** Minimum wait between refetches triggered by an unknown `kid`. */
export const JWKS_COOLDOWN_MS = 30_000;
/** The only signature algorithm accepted (Entra ID signs access tokens with RS256). */
export const ACCEPTED_ALGORITHMS = ['RS256'];

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  jwksUrl: string;
  /** Expected `iss`; `{tid}` is replaced by the token's `tid`, as Entra ID's v2 issuers are per tenant. */
  issuer: string;
  audience: string;
  clockToleranceSeconds: number;
}

/** Verifies an access token and returns the identity it proves. */
export type TokenVerifier = (token: string) => Promise<Identity>;

/** Creates a verifier: signature (cached remote JWKS), issuer, audience, expiry, RS256, GUID `tid`. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
  });
  return async (token) => {
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw new AuthenticationError('The access token is not a well-formed JWT');
    }
    const tid = unverified.tid;
    if (typeof tid !== 'string' || !isUuid(tid)) {
      throw new AuthenticationError('The access token has no valid tenant id (tid claim)');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer.replaceAll('{tid}', tid.toLowerCase()),
        audience: options.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'iat', 'oid'],
      }));
    } catch (error) {
      throw explain(error);
    }
    return toIdentity(payload, tid.toLowerCase());
  };
}

function toIdentity(payload: JWTPayload, tenantId: string): Identity {
  const oid = payload.oid;
  if (typeof oid !== 'string' || !isUuid(oid)) {
    throw new AuthenticationError('The access token has no valid object id (oid claim)');
  }
  const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ').filter(Boolean) : [];
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const name = [payload.preferred_username, payload.name].find(
    (v): v is string => typeof v === 'string' && v !== '',
  );
  const slug = payload.wtdc_tenant;
  return {
    tenantId,
    subjectId: oid.toLowerCase(),
    kind: payload.scp === undefined ? 'service' : 'user',
    displayName: name ?? oid,
    roles,
    scopes,
    ...(typeof slug === 'string' ? { tenantSlug: slug } : {}),
  };
}

function explain(error: unknown): Error {
  if (error instanceof errors.JWTExpired) return new AuthenticationError('The access token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reasons: Record<string, string> = {
      iss: 'The access token was issued by an untrusted issuer',
      aud: 'The access token is for another audience',
      nbf: 'The access token is not valid yet',
      iat: 'The access token has an invalid issue time',
    };
    return new AuthenticationError(
      reasons[error.claim] ?? `The access token's ${error.claim} claim is invalid`,
    );
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthenticationError(`The access token must be signed with ${ACCEPTED_ALGORITHMS.join(', ')}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthenticationError('The access token signature is not valid');
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || isFetchFailure(error)) {
    return new UnavailableError('The identity provider signing keys cannot be fetched; try again shortly');
  }
  if (error instanceof errors.JOSEError) return new AuthenticationError('The access token is not valid');
  return error instanceof Error ? error : new Error(String(error));
}

function isFetchFailure(error: unknown): boolean {
  // Compare by name: the error may come from another realm (a test sandbox), defeating instanceof.
  if (!(error instanceof Error) && !(typeof error === 'object' && error !== null && 'message' in error))
    return false;
  const { name, message } = error as Error;
  return (
    (name === 'TypeError' && /fetch failed/i.test(message)) || /JSON Web Key Set HTTP response/i.test(message)
  );
}
