// The sign-in page: Entra ID through MSAL when configured; in development the dev issuer, where one
// picks the tenant, the user and the roles.
import { useState } from 'preact/hooks';
import { entraSignIn } from './auth/entra.ts';
import { devSignIn, ROLES, type Session, type SignInConfig } from './auth/session.ts';
import { ErrorNote } from './ui/common.tsx';

export function SignIn({ config, onSignedIn }: { config: SignInConfig; onSignedIn(session: Session): void }) {
  const [tenant, setTenant] = useState('demo');
  const [user, setUser] = useState('alice');
  const [roles, setRoles] = useState<string[]>(['Admin']);
  const [error, setError] = useState<unknown>();
  const toggle = (role: string) =>
    setRoles((held) => (held.includes(role) ? held.filter((r) => r !== role) : [...held, role]));
  const submit = (event: Event) => {
    event.preventDefault();
    devSignIn({ tenant, user, roles }).then(onSignedIn, setError);
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to the WidgeTDC console</h1>
      {config.entra && (
        <button type="button" class="primary" onClick={() => entraSignIn(config.entra!).catch(setError)}>
          Sign in with Microsoft Entra ID
        </button>
      )}
      {config.dev && (
        <form onSubmit={submit} aria-labelledby="dev-title">
          <h2 id="dev-title">Development sign-in</h2>
          <p class="hint">Tokens from the embedded dev issuer; production gateways never offer this.</p>
          <label for="dev-tenant">Tenant</label>
          <input
            id="dev-tenant"
            required
            value={tenant}
            onInput={(e) => setTenant((e.target as HTMLInputElement).value)}
          />
          <label for="dev-user">User</label>
          <input
            id="dev-user"
            required
            value={user}
            onInput={(e) => setUser((e.target as HTMLInputElement).value)}
          />
          <fieldset>
            <legend>Roles</legend>
            {ROLES.map((role) => (
              <label class="check">
                <input
                  type="checkbox"
                  name="role"
                  value={role}
                  checked={roles.includes(role)}
                  onChange={() => toggle(role)}
                />{' '}
                {role}
              </label>
            ))}
          </fieldset>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      )}
      {!config.dev && !config.entra && (
        <ErrorNote error={new Error('No sign-in is configured for the console.')} />
      )}
      {!config.dev && !config.entra && (
        <p>
          Set CONSOLE_ENTRA_CLIENT_ID on the gateway (see README, Entra ID), or run npm start for development.
        </p>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </main>
  );
}
