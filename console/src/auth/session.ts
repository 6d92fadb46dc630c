// Who is signed in: the access token, what it says (tenant, user, roles), and how to renew it.
// Development tokens come from the dev issuer through the gateway; Entra ID ones from MSAL (entra.ts).

/** The console's sign-in settings, served by the gateway at /console/config.json. */
export interface SignInConfig {
  dev: boolean;
  entra: { clientId: string; authority: string; scopes: string[] } | null;
}

/** The claims the console shows and decides on (never trusted for access: the gateway verifies the token). */
export interface Claims {
  tid: string;
  oid: string;
  name: string;
  roles: string[];
  exp: number;
  tenantSlug?: string;
}

/** A signed-in person. */
export interface Session {
  mode: 'dev' | 'entra';
  claims: Claims;
  /** A current token, renewed when close to expiry. */
  token(): Promise<string>;
  signOut(): Promise<void>;
}

/** App roles the platform knows. */
export const ROLES = ['Reader', 'Contributor', 'Approver', 'Admin', 'Auditor'] as const;

const DEV_KEY = 'widgetdc.console.dev';

/** Reads a JWT's payload (display only). */
export function claimsOf(token: string): Claims {
  const part = token.split('.')[1] ?? '';
  const json = atob(part.replaceAll('-', '+').replaceAll('_', '/'));
  const payload = JSON.parse(
    new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))),
  ) as Record<string, unknown>;
  return {
    tid: String(payload.tid ?? ''),
    oid: String(payload.oid ?? ''),
    name: String(payload.preferred_username ?? payload.name ?? payload.oid ?? ''),
    roles: Array.isArray(payload.roles) ? payload.roles.map(String) : [],
    exp: Number(payload.exp ?? 0),
    tenantSlug: typeof payload.wtdc_tenant === 'string' ? payload.wtdc_tenant : undefined,
  };
}

/** What a dev sign-in asks for. */
export interface DevSignIn {
  tenant: string;
  user: string;
  roles: string[];
}

async function mintDevToken(request: DevSignIn): Promise<string> {
  const response = await fetch('/console/dev-token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!response.ok || !body.token)
    throw new Error(body.error ?? `dev sign-in failed (HTTP ${response.status})`);
  return body.token;
}

/** Signs in with the dev issuer and remembers the choice for this browser tab. */
export async function devSignIn(request: DevSignIn): Promise<Session> {
  const session = devSession(request, await mintDevToken(request));
  sessionStorage.setItem(DEV_KEY, JSON.stringify(request));
  return session;
}

/** The dev session of this tab, if one was started. */
export async function resumeDevSession(): Promise<Session | undefined> {
  const saved = sessionStorage.getItem(DEV_KEY);
  if (!saved) return undefined;
  try {
    const request = JSON.parse(saved) as DevSignIn;
    return devSession(request, await mintDevToken(request));
  } catch {
    sessionStorage.removeItem(DEV_KEY);
    return undefined;
  }
}

function devSession(request: DevSignIn, first: string): Session {
  let token = first;
  let claims = claimsOf(token);
  return {
    mode: 'dev',
    get claims() {
      return claims;
    },
    async token() {
      if (claims.exp * 1000 - Date.now() < 60_000) {
        token = await mintDevToken(request);
        claims = claimsOf(token);
      }
      return token;
    },
    async signOut() {
      sessionStorage.removeItem(DEV_KEY);
    },
  };
}
