import { AuthenticationError, ForbiddenError, UnavailableError } from '#kernel/errors.ts';

/** How long a subgraph may take to confirm a caller's tenant. */
export const TENANT_PROBE_TIMEOUT_MS = 5_000;

/** Confirms that a verified caller's tenant is registered; throws FORBIDDEN when it is not. */
export type TenantCheck = (authorization: string) => Promise<void>;

/**
 * Asks a subgraph, with the caller's own token, for `{ __typename }`: the subgraph verifies the token
 * and refuses unknown tenants exactly as for any HTTP request (the gateway holds no database).
 */
export function createTenantProbe(subgraphUrl: string): TenantCheck {
  return async (authorization) => {
    let res: Response;
    try {
      res = await fetch(subgraphUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(TENANT_PROBE_TIMEOUT_MS),
      });
    } catch {
      throw new UnavailableError('The tenant directory cannot be reached; try again shortly');
    }
    if (res.ok) return;
    const body = (await res.json().catch(() => ({}))) as { errors?: { message?: unknown }[] };
    const message = typeof body.errors?.[0]?.message === 'string' ? body.errors[0].message : undefined;
    if (res.status === 401) throw new AuthenticationError(message ?? 'The access token is not valid');
    if (res.status === 403) throw new ForbiddenError(message ?? 'The tenant is not registered with WidgeTDC');
    throw new UnavailableError('The tenant directory cannot be reached; try again shortly');
  };
}
