// Remembers access tokens this process has verified, so a token is verified once per process and
// not once per request (the gateway and every subgraph verify each request's token; RS256 checks
// and claim parsing were ~9% of the gateway's CPU). An entry never outlives the token's `exp`, and
// is not used once its signing key is no longer in the issuer's current JWKS or that JWKS is stale.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { Identity } from './identity.ts';

/** Verified tokens remembered at most per process (`TOKEN_CACHE_SIZE`; 0 turns the cache off). */
export const DEFAULT_TOKEN_CACHE_SIZE = 10_000;

/** An issuer's key set as the cache sees it: is it fresh, and does it still publish `kid`. */
export interface KeyRing {
  /** Whether the cached JWKS is within its max age (a stale one must be refetched by a full verification). */
  readonly fresh: boolean;
  /** Whether the current JWKS holds a key with this `kid`. */
  has(kid: string): boolean;
}

/** The key ring of a jose remote JWKS whose fetches are mirrored into `store` (jose's `jwksCache` option). */
export function keyRingOf(
  keys: { readonly fresh: boolean },
  store: { uat?: number; jwks?: { keys?: { kid?: string }[] } },
): KeyRing {
  let seenAt: number | undefined;
  let kids = new Set<string>();
  return {
    get fresh() {
      return keys.fresh;
    },
    has(kid) {
      // Rebuilt only when jose stored a newer fetch, so a hit costs a Set lookup.
      if (store.uat !== seenAt) {
        seenAt = store.uat;
        kids = new Set((store.jwks?.keys ?? []).flatMap((key) => (key.kid ? [key.kid] : [])));
      }
      return kids.has(kid);
    },
  };
}

/** What the cache keeps of a verified token. */
export interface VerifiedToken {
  identity: Identity;
  /** The token's `exp`, seconds since the epoch. */
  exp: number;
  /** The `kid` that signed it, and the ring of its issuer. */
  kid: string;
  keys: KeyRing;
}

/** A bounded LRU of verified tokens, keyed by the SHA-256 of the token (the token itself is not kept). */
export class TokenCache {
  readonly #max: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, VerifiedToken>();

  constructor(maxEntries: number, now: () => number = Date.now) {
    this.#max = maxEntries;
    this.#now = now;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The identity of a token verified before, or undefined: expired, key gone, key set stale, or never seen. */
  get(token: string): Identity | undefined {
    if (this.#max === 0) return undefined;
    const key = digest(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() >= entry.exp * 1000 || !entry.keys.has(entry.kid)) {
      this.#entries.delete(key);
      return undefined;
    }
    // Stale keys: let a full verification refetch them; the entry may still be good afterwards.
    if (!entry.keys.fresh) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return { ...entry.identity };
  }

  /** Remembers a token that has just been verified; the least recently used entry goes when full. */
  set(token: string, entry: VerifiedToken): void {
    if (this.#max === 0 || this.#now() >= entry.exp * 1000) return;
    const key = digest(token);
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}

const sizeSchema = z.coerce
  .number({ error: 'TOKEN_CACHE_SIZE must be a whole number from 0 to 10000000' })
  .int('TOKEN_CACHE_SIZE must be a whole number from 0 to 10000000')
  .min(0, 'TOKEN_CACHE_SIZE must be at least 0 (0 turns the cache off)')
  .max(10_000_000, 'TOKEN_CACHE_SIZE must be at most 10000000')
  .default(DEFAULT_TOKEN_CACHE_SIZE);

/** Reads `TOKEN_CACHE_SIZE` (verified tokens remembered per process; 0 = off). */
export function loadTokenCacheSize(env: Record<string, string | undefined> = process.env): number {
  const raw = env.TOKEN_CACHE_SIZE?.trim();
  const parsed = sizeSchema.safeParse(raw === '' ? undefined : raw);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message));
  return parsed.data;
}
