import { authOptions } from '#kernel/auth/auth-options.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { type ServiceTokenProvider, serviceTokenProvider } from '#kernel/auth/service-identity.ts';
import { createTokenVerifier, type TokenVerifier } from '#kernel/auth/token-verifier.ts';
import type { PlatformConfig } from '#kernel/config.ts';
import { ConfigError } from '#kernel/errors.ts';
import type { Actor } from '../catalogue.ts';
import { describeError } from '../errors.ts';

/** The app identity workers act as (the dev issuer derives its ids from this name; a label with Entra ID). */
export const WORKER_SERVICE_NAME = 'widgetdc-worker';
/** Tenant whose token proves the identity at start-up when no home tenant is configured (dev issuer). */
export const DEV_PROBE_TENANT_ID = devTenantId('demo');

/** A worker's own app identity, proven per tenant by a verified service token. */
export interface WorkerIdentity {
  /** The service name the tokens are requested for. */
  readonly service: string;
  /** The verified identity in `tenantId`: cached, and verified again whenever the token is renewed. */
  identityFor(tenantId: string): Promise<Identity>;
  /** {@link identityFor} as the actor of effects, audit records and follow-up events. */
  actorFor(tenantId: string): Promise<Actor>;
}

/** The actor a verified service identity stands for. */
export function serviceActor(identity: Identity): Actor {
  return { kind: 'service', id: identity.subjectId, name: identity.displayName.slice(0, 200) };
}

/**
 * A worker identity from a token provider and the verifier the services use: each tenant's token is
 * verified (signature, issuer, audience, expiry) and must be an app-only token of that tenant.
 */
export function verifiedWorkerIdentity(tokens: ServiceTokenProvider, verify: TokenVerifier): WorkerIdentity {
  const cache = new Map<string, { token: string; identity: Promise<Identity> }>();
  const identityFor = async (tenantId: string): Promise<Identity> => {
    const tenant = tenantId.toLowerCase();
    let token: string;
    try {
      token = await tokens.getToken(tenant);
    } catch (error) {
      throw new Error(
        `${tokens.service} could not obtain a service token for tenant ${tenant}: ${describeError(error)}`,
        { cause: error },
      );
    }
    const hit = cache.get(tenant);
    if (hit?.token === token) return hit.identity;
    const identity = verify(token).then(
      (verified) => {
        if (verified.kind !== 'service') {
          throw new Error(
            `${tokens.service}'s token for tenant ${tenant} is delegated (has scp), not app-only`,
          );
        }
        if (verified.tenantId !== tenant) {
          throw new Error(
            `${tokens.service}'s token for tenant ${tenant} is for tenant ${verified.tenantId}`,
          );
        }
        return verified;
      },
      (error: unknown) => {
        throw new Error(
          `${tokens.service}'s service token for tenant ${tenant} did not verify: ${describeError(error)}`,
          { cause: error },
        );
      },
    );
    cache.set(tenant, { token, identity });
    identity.catch(() => {
      if (cache.get(tenant)?.identity === identity) cache.delete(tenant);
    });
    return identity;
  };
  return {
    service: tokens.service,
    identityFor,
    actorFor: async (tenantId) => serviceActor(await identityFor(tenantId)),
  };
}

/**
 * The worker identity this configuration gives (msal-node client credentials with Entra ID, else the
 * dev issuer's keys), proven once at start-up in the home tenant. Throws ConfigError when no
 * service identity is configured or the start-up token does not verify.
 */
export async function loadWorkerIdentity(
  config: PlatformConfig,
  service = WORKER_SERVICE_NAME,
): Promise<{ identity: WorkerIdentity; proof: Identity }> {
  const problems: string[] = [];
  let tokens: ServiceTokenProvider | undefined;
  let verify: TokenVerifier | undefined;
  for (const step of [
    async () => {
      tokens = await serviceTokenProvider(config, service);
    },
    async () => {
      verify = createTokenVerifier(authOptions(config));
    },
  ]) {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (!tokens || !verify) {
    throw new ConfigError([
      'The worker acts as its own app identity and has none: it needs a service token it can verify',
      ...problems,
    ]);
  }
  const identity = verifiedWorkerIdentity(tokens, verify);
  const home = config.auth.service?.tenantId || config.auth.entra?.tenantIds[0] || DEV_PROBE_TENANT_ID;
  try {
    return { identity, proof: await identity.identityFor(home) };
  } catch (error) {
    throw new ConfigError([
      `The worker could not prove its service identity at start-up: ${describeError(error)}`,
    ]);
  }
}
