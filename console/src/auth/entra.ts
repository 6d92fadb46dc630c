// Entra ID sign-in with MSAL for browsers: authorization code flow with PKCE, redirect-based, tokens
// for the API's `access_as_user` scope. MSAL is loaded only when Entra ID is configured.
import { claimsOf, type Session, type SignInConfig } from './session.ts';

type Entra = NonNullable<SignInConfig['entra']>;

async function application(entra: Entra) {
  const msal = await import('@azure/msal-browser');
  const app = await msal.createStandardPublicClientApplication({
    auth: {
      clientId: entra.clientId,
      authority: entra.authority,
      redirectUri: `${location.origin}/console/`,
    },
    cache: { cacheLocation: 'sessionStorage' },
  });
  return { msal, app };
}

/** Completes a redirect back from Entra ID, or resumes a signed-in account; undefined when nobody is. */
export async function resumeEntraSession(entra: Entra): Promise<Session | undefined> {
  const { msal, app } = await application(entra);
  const result = await app.handleRedirectPromise();
  const account = result?.account ?? app.getAllAccounts()[0];
  if (!account) return undefined;
  app.setActiveAccount(account);
  const acquire = async () => {
    try {
      return (await app.acquireTokenSilent({ scopes: entra.scopes, account })).accessToken;
    } catch (error) {
      if (error instanceof msal.InteractionRequiredAuthError) {
        await app.acquireTokenRedirect({ scopes: entra.scopes, account });
      }
      throw error;
    }
  };
  let claims = claimsOf(await acquire());
  return {
    mode: 'entra',
    get claims() {
      return claims;
    },
    async token() {
      const token = await acquire();
      claims = claimsOf(token);
      return token;
    },
    signOut: () => app.logoutRedirect({ account, postLogoutRedirectUri: `${location.origin}/console/` }),
  };
}

/** Sends the browser to Entra ID's sign-in page (it comes back to /console/). */
export async function entraSignIn(entra: Entra): Promise<void> {
  const { app } = await application(entra);
  await app.loginRedirect({ scopes: entra.scopes });
}
