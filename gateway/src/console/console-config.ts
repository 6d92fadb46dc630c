import { z } from 'zod';
import { type AuthConfig, type Env, httpUrl, type NodeEnv, parseEnv, rule, text } from '#kernel/config.ts';

/** How the console lets people sign in; sent to the browser as `/console/config.json`. */
export interface ConsoleSignIn {
  /** The dev issuer the gateway mints development tokens from (`POST /console/dev-token`); never in production. */
  devIssuerUrl: string | undefined;
  /** Entra ID through MSAL (authorization code + PKCE); absent unless the console's SPA registration is configured. */
  entra: { clientId: string; authority: string; scopes: string[] } | undefined;
}

const fields = z.object({ CONSOLE_DEV_ISSUER_URL: httpUrl(), CONSOLE_ENTRA_CLIENT_ID: text() });
type ConsoleEnv = z.output<typeof fields>;

/**
 * Reads the console's sign-in settings. `CONSOLE_DEV_ISSUER_URL` (set by `npm start` when it runs the dev
 * issuer) is refused under NODE_ENV=production unless ALLOW_DEV_ISSUER_IN_PRODUCTION=true, so a production
 * gateway never offers dev sign-in; `CONSOLE_ENTRA_CLIENT_ID` needs Entra ID configured for the API.
 */
export function loadConsoleSignIn(auth: AuthConfig, nodeEnv: NodeEnv, env: Env = process.env): ConsoleSignIn {
  const schema = fields
    .check(
      rule<ConsoleEnv>((value, ctx) => {
        if (value.CONSOLE_DEV_ISSUER_URL && nodeEnv === 'production' && !auth.allowDevIssuerInProduction) {
          ctx.addIssue({
            code: 'custom',
            input: value,
            message:
              'CONSOLE_DEV_ISSUER_URL must not be set with NODE_ENV=production (the console would offer dev sign-in); ' +
              'configure Entra ID (CONSOLE_ENTRA_CLIENT_ID) instead',
          });
        }
        if (value.CONSOLE_ENTRA_CLIENT_ID && !auth.entra) {
          ctx.addIssue({
            code: 'custom',
            input: value,
            message:
              'CONSOLE_ENTRA_CLIENT_ID needs Entra ID configured for the API (AUTH_TENANT_IDS, AUTH_CLIENT_ID)',
          });
        }
      }),
    )
    .transform((value): ConsoleSignIn => {
      const entra = auth.entra;
      const tenant = entra?.tenantIds.length === 1 ? entra.tenantIds[0] : 'organizations';
      return {
        devIssuerUrl: value.CONSOLE_DEV_ISSUER_URL?.replace(/\/+$/, ''),
        entra:
          value.CONSOLE_ENTRA_CLIENT_ID && entra
            ? {
                clientId: value.CONSOLE_ENTRA_CLIENT_ID,
                authority: `${entra.authorityHost.replace(/\/+$/, '')}/${tenant}`,
                scopes: [`api://${entra.clientId}/access_as_user`],
              }
            : undefined,
      };
    });
  return parseEnv(schema, env);
}
