import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type FetchImplementation,
  type JWTPayload,
  jwksCache,
  jwtVerify,
} from 'jose';
import { AuthenticationError, UnavailableError } from '../errors.ts';
import { isUuid } from '../ids.ts';
import type { Identity } from './identity.ts';
import { type KeyRing, keyRingOf, loadTokenCacheSize, TokenCache } from './token-cache.ts';

/** How long fetched keys are trusted before the next refresh. */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** Minimum wait between refetches triggered by an unknown `kid`. */
export const JWKS_COOLDOWN_MS = 30_000;
/** How long a JWKS fetch may take before the identity provider counts as unreachable. */
export const JWKS_TIMEOUT_MS = 5_000;
/** The only signature algorithm accepted (Entra ID signs access tokens with RS256). */
export const ACCEPTED_ALGORITHMS = ['RS256'];

/** One issuer whose access tokens are accepted, with the keys that sign them. */
export interface TrustedIssuer {
  /** Short label for logs and messages (`entra`, `dev`, …). */
  name: string;
  /** Expected `iss`, compared exactly; `{tid}` is replaced by the token's `tid` (Entra ID v2 issuers are per tenant). */
  issuer: string;
  /** Where the issuer publishes its public keys. */
  jwksUrl: string;
  /** Accepted `aud` values: the API's own identifiers at this issuer. */
  audiences: readonly string[];
  /** Allowed tenants (`tid`); absent means any GUID tenant this issuer vouches for. */
  tenantIds?: readonly string[];
  /** Fetch used for the JWKS, e.g. one that trusts a private CA (see https-client.ts). */
  fetch?: FetchImplementation;
  /** Overrides {@link JWKS_COOLDOWN_MS} (tests of key rotation use 0). */
  jwksCooldownMs?: number;
  /** Overrides {@link JWKS_CACHE_MAX_AGE_MS}. */
  jwksCacheMaxAgeMs?: number;
}

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions {
  /** Every issuer whose tokens are accepted; a token must name one of them exactly in `iss`. */
  issuers: readonly TrustedIssuer[];
  /** Allowed clock skew when checking `exp` and `nbf`. */
  clockToleranceSeconds: number;
  /** Verified tokens remembered (0 = every request verified again); `TOKEN_CACHE_SIZE` when absent. */
  tokenCacheSize?: number;
}

/** Verifies an access token and returns the identity it proves. */
export type TokenVerifier = (token: string) => Promise<Identity>;

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** `TOKEN_CACHE_SIZE`, read once per process. */
let environmentCacheSize: number | undefined;
function tokenCacheSize(options: TokenVerifierOptions): number {
  if (options.tokenCacheSize !== undefined) return options.tokenCacheSize;
  if (environmentCacheSize === undefined) environmentCacheSize = loadTokenCacheSize();
  return environmentCacheSize;
}

/**
 * Creates a verifier: RS256 only, GUID `tid`, `iss` exactly one trusted issuer (and, for Entra ID,
 * a tenant of the allow-list), signature by that issuer's cached remote JWKS (refetched once on an
 * unknown `kid`, with a cool-down), `aud`, `exp`/`nbf` with skew. Verified tokens are remembered
 * (token-cache.ts) until their `exp`, while their key is still published and the key set is fresh.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  if (options.issuers.length === 0) throw new Error('createTokenVerifier needs at least one trusted issuer');
  const keySets = new Map<string, { keys: KeySet; ring: KeyRing }>();
  const trusted = options.issuers.map((issuer) => {
    const cacheKey = `${issuer.jwksUrl} ${issuer.jwksCooldownMs ?? ''} ${issuer.jwksCacheMaxAgeMs ?? ''}`;
    let set = keySets.get(cacheKey);
    if (!set) {
      // jose mirrors every fetched JWKS into `store`: the token cache reads which kids are current there.
      const store: { uat?: number; jwks?: { keys?: { kid?: string }[] } } = {};
      const keys = createRemoteJWKSet(new URL(issuer.jwksUrl), {
        cacheMaxAge: issuer.jwksCacheMaxAgeMs ?? JWKS_CACHE_MAX_AGE_MS,
        cooldownDuration: issuer.jwksCooldownMs ?? JWKS_COOLDOWN_MS,
        timeoutDuration: JWKS_TIMEOUT_MS,
        [jwksCache]: store as Record<string, never>,
        ...(issuer.fetch ? { [customFetch]: issuer.fetch } : {}),
      });
      set = { keys, ring: keyRingOf(keys, store) };
      keySets.set(cacheKey, set);
    }
    const tenants = issuer.tenantIds && new Set(issuer.tenantIds.map((t) => t.toLowerCase()));
    return { issuer, keys: set.keys, ring: set.ring, tenants };
  });
  const cache = new TokenCache(tokenCacheSize(options));

  return async (token) => {
    const remembered = cache.get(token);
    if (remembered) return remembered;
    const { header, payload: unverified } = decodeUnverified(token);
    if (typeof header.alg !== 'string' || !ACCEPTED_ALGORITHMS.includes(header.alg)) {
      throw new AuthenticationError(
        `The access token must be signed with ${ACCEPTED_ALGORITHMS.join(', ')} (got alg ${JSON.stringify(header.alg ?? null)})`,
      );
    }
    const tid = unverified.tid;
    if (typeof tid !== 'string' || !isUuid(tid)) {
      throw new AuthenticationError('The access token has no valid tenant id (tid claim must be a GUID)');
    }
    const iss = unverified.iss;
    const match = trusted.find(({ issuer }) => issuer.issuer.replaceAll('{tid}', tid) === iss);
    if (!match) throw new AuthenticationError('The access token was issued by an untrusted issuer');
    if (match.tenants && !match.tenants.has(tid.toLowerCase())) {
      throw new AuthenticationError(`The access token's tenant ${tid} is not allowed to use this API`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, match.keys, {
        issuer: iss,
        audience: [...match.issuer.audiences],
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ['exp', 'iat', 'oid'],
      }));
    } catch (error) {
      throw explain(error);
    }
    const identity = toIdentity(payload, tid.toLowerCase());
    if (typeof header.kid === 'string' && typeof payload.exp === 'number') {
      cache.set(token, { identity, exp: payload.exp, kid: header.kid, keys: match.ring });
    }
    return identity;
  };
}

function decodeUnverified(token: string) {
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    throw new AuthenticationError('The access token is not a well-formed JWT');
  }
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
  // v2 tokens carry the calling app in `azp`; v1-shaped and some IdPs use `appid` or RFC 9068's `client_id`.
  const clientId = [payload.azp, payload.appid, payload.client_id].find(
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
    ...(clientId ? { clientId } : {}),
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
      reasons[error.claim] ?? `The access token's ${error.claim} claim is missing or invalid`,
    );
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new AuthenticationError(`The access token must be signed with ${ACCEPTED_ALGORITHMS.join(', ')}`);
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthenticationError("The access token's signing key (kid) is not published by its issuer");
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
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
    (name === 'TypeError' && /fetch failed/i.test(message)) ||
    /JSON Web Key Set HTTP response/i.test(message) ||
    name === 'AbortError' ||
    name === 'TimeoutError'
  );
}
